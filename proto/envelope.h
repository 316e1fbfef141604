/*
 * envelope.h - the msgpack job envelope pushed from frontends to workers.
 *
 * Version 2 is a small msgpack map with string keys (see proto/wire-format.md):
 * a task id, the attempt, and optionally a trace context and a deadline.  It
 * never carries arguments, tool names or owners: PostgreSQL holds the truth,
 * and a worker claims the task there and re-reads the row before it runs it.
 * Encoding and decoding do no I/O, allocate nothing and keep no global state,
 * so they can be fuzzed.  Version 1 envelopes are refused (ENVELOPE_EVERSION).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_ENVELOPE_H
#define TASKWIRE_ENVELOPE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define ENVELOPE_VERSION     2
#define ENVELOPE_TASK_ID_LEN 36       /* canonical UUID text */
#define ENVELOPE_MAX_TRACE   512      /* bytes of a W3C traceparent[,tracestate] */
#define ENVELOPE_MAX_ATTEMPT 1000000u /* highest "attempt" */
#define ENVELOPE_MAX_BYTES   1024     /* a whole encoded envelope (a valid one takes <= 600) */

enum envelope_error {
    ENVELOPE_EGARBAGE = 1, /* not msgpack, truncated, trailing bytes, or over the size limit */
    ENVELOPE_EVERSION,     /* a well-formed envelope of a version we do not speak (v1 included) */
    ENVELOPE_EFIELD,       /* a field missing, duplicated, retired, mistyped, or out of range */
    ENVELOPE_ESPACE,       /* encode only: the caller's buffer is too small */
};

struct envelope {
    uint32_t version;                       /* ENVELOPE_VERSION after decode; 0 or it on encode */
    char task_id[ENVELOPE_TASK_ID_LEN + 1]; /* NUL-terminated canonical UUID text */
    uint32_t attempt;                       /* attempt the frontend last saw (0 = new) */
    char trace[ENVELOPE_MAX_TRACE + 1];     /* NUL-terminated, "" = none */
    int64_t deadline_ms;                    /* Unix ms when the task becomes pointless, 0 = none */
};

/* Encode 'env' into the caller's 'buf' of 'cap' bytes (ENVELOPE_MAX_BYTES always suffice);
 * *len gets the size.  Refuses what decode would refuse. */
MUST_CHECK int envelope_encode(const struct envelope *env, void *buf, size_t cap, size_t *len,
                               struct err *err);
/* Decode exactly 'len' bytes into 'env' (overwritten; zeroed on failure).  Allocates nothing. */
MUST_CHECK int envelope_decode(const void *buf, size_t len, struct envelope *env, struct err *err);
/* True when the NUL-terminated 'trace' may travel as "trace": 1..ENVELOPE_MAX_TRACE bytes of
 * printable ASCII. */
bool envelope_trace_ok(const char *trace);

#endif
