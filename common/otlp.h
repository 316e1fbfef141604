/*
 * otlp.h - optional export of spans with OTLP/HTTP JSON (OpenTelemetry).
 *
 * Off unless otlp_start() is given an endpoint.  Spans are queued (at most
 * OTLP_QUEUE; more are dropped and counted) and a background thread POSTs
 * them in batches to <endpoint>/v1/traces as an ExportTraceServiceRequest in
 * JSON.  An unreachable collector costs dropped spans, never a stall.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_OTLP_H
#define TASKWIRE_OTLP_H

#include <stdint.h>

#include "err.h"

#define OTLP_QUEUE    2048 /* spans waiting for export at most */
#define OTLP_EINVALID 1    /* returned negated: not an http(s) URL */
#define OTLP_ESTART   2    /* returned negated: the export thread did not start */

/* One finished span.  Ids are lowercase hex; parent_id "" for a root span. */
struct otlp_span {
    char trace_id[33];    /* 32 hex digits */
    char span_id[17];     /* 16 hex digits */
    char parent_id[17];   /* 16 hex digits, or "" */
    char name[64];        /* e.g. "POST tools/call", "queue wait", "tool run" */
    int64_t start_us;     /* Unix microseconds */
    int64_t end_us;       /* Unix microseconds */
    char attr_key[32];    /* one string attribute ("" = none), e.g. "taskwire.tool" */
    char attr_value[136]; /* its value */
};

/* Export spans of service 'service' (e.g. "taskwire-worker") to 'endpoint' (an http(s)
 * base URL; NULL or "" = off).  Call once, before threads.  0, -OTLP_EINVALID or
 * -OTLP_ESTART. */
MUST_CHECK int otlp_start(const char *endpoint, const char *service, struct err *err);
/* Queue span 's' (copied) for export; a no-op when export is off.  Thread-safe. */
void otlp_emit(const struct otlp_span *s);
/* Export what is queued (a last try) and stop the thread. */
void otlp_stop(void);
/* Register taskwire_otlp_spans_total{result}.  Call once, at start-up. */
void otlp_metrics_register(void);

#endif
