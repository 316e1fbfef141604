/*
 * trace.h - W3C Trace Context (traceparent, tracestate) for tasks and logs.
 *
 * A task carries the trace of the request that created it as one string,
 * "traceparent[,tracestate]" (a traceparent never contains a comma).  Each
 * process that works on the task starts a span of its own in that trace:
 * the trace id stays, the span id is new, and the parent-id field of the
 * traceparent it hands on (to the task row, to a tool) is its own span id.
 * Log lines written on a thread between trace_log_begin() and
 * trace_log_end() carry "trace_id" and "span_id".
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_TRACE_H
#define TASKWIRE_TRACE_H

#include <stdbool.h>

#define TRACE_ID_LEN     32  /* hex digits of a trace id */
#define TRACE_SPAN_LEN   16  /* hex digits of a span (parent) id */
#define TRACE_PARENT_LEN 55  /* "00-" trace "-" span "-" flags */
#define TRACE_STATE_MAX  400 /* bytes of tracestate kept (the envelope carries 512 in all) */

/* One span of a trace, as this process sees it. */
struct trace_ctx {
    char trace_id[TRACE_ID_LEN + 1];     /* from the caller, or new */
    char span_id[TRACE_SPAN_LEN + 1];    /* this process's span, always new */
    char caller[TRACE_SPAN_LEN + 1];     /* the caller's span (parent-id received), "" = root */
    char flags[3];                       /* trace-flags of the caller, or "01" */
    char parent[TRACE_PARENT_LEN + 1];   /* traceparent naming this span as parent */
    char state[TRACE_STATE_MAX + 1];     /* tracestate passed on unchanged, "" = none */
    char task[TRACE_PARENT_LEN + 1 + TRACE_STATE_MAX + 1]; /* "parent[,state]" for a task row */
};

/* True when 's' is a valid version-00 traceparent (lowercase hex, ids not all zero). */
bool trace_parent_ok(const char *s);
/* Start a span continuing 'traceparent' (a fresh trace when it is NULL or invalid) with
 * 'tracestate' (NULL, or dropped when too long or without its traceparent). */
void trace_begin(struct trace_ctx *t, const char *traceparent, const char *tracestate);
/* Start a span continuing a task row's trace ("parent[,state]", may be NULL). */
void trace_begin_task(struct trace_ctx *t, const char *task_trace);
/* Fill 'out' with a new random span id (16 hex digits and a NUL). */
void trace_new_span_id(char out[TRACE_SPAN_LEN + 1]);
/* From now on, log lines of this thread carry t's trace_id and span_id ('t' is copied). */
void trace_log_begin(const struct trace_ctx *t);
/* Log lines of this thread no longer carry a trace. */
void trace_log_end(void);

#endif
