/*
 * overload.h - counting and reporting refusals and reaped connections.
 *
 * Every refusal (a rate limit, a per-principal cap, the stream budget) and
 * every connection closed for a missed deadline is counted in a metric with
 * its reason as a label, and reported at warn level: the first one at once,
 * then at most one line every OVERLOAD_LOG_MS with the count and rate of
 * each reason since the last line, so a flood costs a line per interval,
 * never a line per request.  Thread-safe (atomics only).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_OVERLOAD_H
#define TASKWIRE_OVERLOAD_H

#include <stdint.h>

#define OVERLOAD_LOG_MS 10000 /* at most one warning line this often */

enum overload_reason {
    OVERLOAD_RATE_CREATE,  /* 429: the create budget's rate */
    OVERLOAD_RATE_READ,    /* 429: the read budget's rate */
    OVERLOAD_RATE_OTHER,   /* 429: the other budget's rate */
    OVERLOAD_MAX_SYNC,     /* 429: too many synchronous waits of one principal */
    OVERLOAD_MAX_LISTEN,   /* 429: too many listen streams of one principal */
    OVERLOAD_MAX_LIVE,     /* 429: too many live tasks of one principal */
    OVERLOAD_STREAMS,      /* 503: the frontend's budget of long-lived requests is spent */
    OVERLOAD_REAP_HEADERS, /* a connection did not send its headers in time */
    OVERLOAD_REAP_BODY,    /* a connection did not send its body in time */
    OVERLOAD_REASONS
};

/* Register the metrics; call once before serving. */
void overload_metrics_register(void);
/* Count one event of 'reason' and warn when a report is due. */
void overload_note(enum overload_reason reason);
/* The label value of 'reason' ("rate_create", ..., "headers", "body"). */
const char *overload_reason_name(enum overload_reason reason);
/* Events of 'reason' counted since start (for tests). */
int64_t overload_count(enum overload_reason reason);

#endif
