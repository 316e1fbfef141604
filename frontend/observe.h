/*
 * observe.h - what the frontend records about each HTTP request: its
 * latency by MCP method and status class, and its trace.
 *
 * A request's trace continues the W3C traceparent/tracestate of its _meta
 * (a fresh trace when it has none or an invalid one); the frontend's span
 * is new.  While the request is handled, this thread's log lines carry the
 * trace, and a task it creates stores the traceparent naming the
 * frontend's span (trace.h), which tasks/get returns (TW_META_TRACEPARENT).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_OBSERVE_H
#define TASKWIRE_OBSERVE_H

#include <jansson.h>
#include <stdint.h>

#include "trace.h"

/* One request, from its headers to the end of its response. */
struct observe {
    int64_t start_us;       /* headers received (CLOCK_MONOTONIC, microseconds) */
    int method;             /* index of the method's series (observe.c), -1 before parsing */
    struct trace_ctx trace; /* the request's span (valid once observe_request() ran) */
};

/* Register the request latency histograms.  Call once, before serving. */
void observe_metrics_register(void);
/* The headers of a request arrived. */
void observe_begin(struct observe *o);
/* The request was parsed: 'method' (NULL when it was not a JSON-RPC request) and
 * params._meta 'meta' (may be NULL).  Starts its span and tags this thread's logs. */
void observe_request(struct observe *o, const char *method, const json_t *meta);
/* The handler returned: this thread's log lines no longer carry the request's trace. */
void observe_handled(struct observe *o);
/* The response ended with HTTP 'status' (0 when none was sent): record the latency. */
void observe_finish(struct observe *o, int status);

#endif
