/*
 * trace.c - W3C Trace Context: parse, start spans, tag this thread's logs.
 *
 * Ids come from getrandom(2) (a per-thread pool of its bytes); a span never reuses its
 * caller's span id.
 * The thread's current trace lives in log.c (log_set_trace), which has no
 * knowledge of the format.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "trace.h"

#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"

/* True when s[0..n) are lowercase hex digits, not all '0'. */
static bool hex_ok(const char *s, int n)
{
    bool nonzero = false;
    for (int i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
        nonzero |= s[i] != '0';
    }
    return nonzero;
}

/* True for "00-<32 hex>-<16 hex>-<2 hex>" with non-zero ids (W3C Trace Context, level 1). */
bool trace_parent_ok(const char *s)
{
    if (!s || strlen(s) != TRACE_PARENT_LEN || strncmp(s, "00-", 3) != 0 || s[35] != '-' ||
        s[52] != '-')
        return false;
    bool flags_hex = hex_ok(s + 53, 2) || strcmp(s + 53, "00") == 0;
    return hex_ok(s + 3, TRACE_ID_LEN) && hex_ok(s + 36, TRACE_SPAN_LEN) && flags_hex;
}

/* Random bytes for ids, drawn from getrandom(2) 256 at a time per thread (a request
 * needs 24: one system call per about ten requests, not two per request). */
static _Thread_local unsigned char pool[256];
static _Thread_local size_t pool_left;

/* Copy 'len' (at most 16) random bytes into 'raw'; false when the kernel gives none. */
static bool pool_take(unsigned char *raw, size_t len)
{
    if (pool_left < len) {
        if (getrandom(pool, sizeof(pool), 0) != (ssize_t)sizeof(pool))
            return false;
        pool_left = sizeof(pool);
    }
    pool_left -= len;
    memcpy(raw, pool + pool_left, len);
    memset(pool + pool_left, 0, len); /* each byte is handed out once */
    return true;
}

/* Fill 'out' with 'n' random lowercase hex digits (not all zero) and a NUL. */
static void random_hex(char *out, int n)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char raw[TRACE_ID_LEN / 2];
    do {
        if (!pool_take(raw, (size_t)n / 2))
            memset(raw, 0x5a, sizeof(raw)); /* no entropy: a fixed id beats none */
        for (int i = 0; i < n / 2; i++) {
            out[2 * i] = digits[raw[i] >> 4];
            out[2 * i + 1] = digits[raw[i] & 0x0f];
        }
        out[n] = '\0';
    } while (!hex_ok(out, n));
}

/* Start a span: keep the caller's trace id and flags (or make a trace), make a span id. */
void trace_begin(struct trace_ctx *t, const char *traceparent, const char *tracestate)
{
    memset(t, 0, sizeof(*t));
    if (trace_parent_ok(traceparent)) {
        memcpy(t->trace_id, traceparent + 3, TRACE_ID_LEN);
        memcpy(t->flags, traceparent + 53, 2);
        memcpy(t->caller, traceparent + 36, TRACE_SPAN_LEN);
        if (tracestate && strlen(tracestate) <= TRACE_STATE_MAX && !strchr(tracestate, '\n'))
            snprintf(t->state, sizeof(t->state), "%s", tracestate);
    } else {
        random_hex(t->trace_id, TRACE_ID_LEN);
        memcpy(t->flags, "01", 2);
    }
    random_hex(t->span_id, TRACE_SPAN_LEN);
    snprintf(t->parent, sizeof(t->parent), "00-%s-%s-%s", t->trace_id, t->span_id, t->flags);
    snprintf(t->task, sizeof(t->task), "%s%s%s", t->parent, t->state[0] ? "," : "", t->state);
}

/* Start a span from a task row's "parent[,state]" (NULL or invalid: a fresh trace). */
void trace_begin_task(struct trace_ctx *t, const char *task_trace)
{
    char parent[TRACE_PARENT_LEN + 1] = "";
    const char *state = NULL;
    if (task_trace && strlen(task_trace) >= TRACE_PARENT_LEN) {
        memcpy(parent, task_trace, TRACE_PARENT_LEN);
        if (task_trace[TRACE_PARENT_LEN] == ',')
            state = task_trace + TRACE_PARENT_LEN + 1;
        else if (task_trace[TRACE_PARENT_LEN] != '\0')
            parent[0] = '\0';
    }
    trace_begin(t, parent, state);
}

/* A new random span id. */
void trace_new_span_id(char out[TRACE_SPAN_LEN + 1])
{
    random_hex(out, TRACE_SPAN_LEN);
}

/* Tag this thread's log lines with the span 't'. */
void trace_log_begin(const struct trace_ctx *t)
{
    log_set_trace(t->trace_id, t->span_id);
}

/* Stop tagging this thread's log lines. */
void trace_log_end(void)
{
    log_set_trace(NULL, NULL);
}
