/*
 * envelope.h - the msgpack job envelope pushed from frontends to workers.
 *
 * Version 1 is a msgpack map with string keys (see proto/wire-format.md).
 * Encoding and decoding do no I/O and keep no global state, so they can be
 * fuzzed.  The envelope is a fast-path hint: PostgreSQL holds the truth, and
 * a worker claims the task there before it trusts anything in here.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_ENVELOPE_H
#define TASKWIRE_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define ENVELOPE_VERSION 1
#define ENVELOPE_TASK_ID_LEN 36       /* canonical UUID text */
#define ENVELOPE_MAX_TOOL 128         /* bytes of a tool name */
#define ENVELOPE_MAX_OWNER 512        /* bytes of an owner (principal) */
#define ENVELOPE_MAX_TRACE 512        /* bytes of a W3C traceparent[,tracestate] */
#define ENVELOPE_MAX_ARGS (1u << 20)  /* bytes of the JSON arguments text */
#define ENVELOPE_MAX_BYTES ((1u << 20) + 4096) /* a whole encoded envelope */

enum envelope_error {
    ENVELOPE_EGARBAGE = 1, /* not msgpack, truncated, or trailing bytes */
    ENVELOPE_EVERSION,     /* a well-formed envelope of a version we do not speak */
    ENVELOPE_EFIELD,       /* a field missing, of the wrong type, or out of range */
    ENVELOPE_ENOMEM,       /* allocation failed */
};

struct envelope {
    uint32_t version;                        /* ENVELOPE_VERSION on encode */
    char task_id[ENVELOPE_TASK_ID_LEN + 1];  /* NUL-terminated UUID text */
    char tool[ENVELOPE_MAX_TOOL + 1];        /* NUL-terminated */
    char owner[ENVELOPE_MAX_OWNER + 1];      /* NUL-terminated */
    char trace[ENVELOPE_MAX_TRACE + 1];      /* NUL-terminated, may be empty */
    char *args;        /* JSON text of the arguments, NUL-terminated; owned */
    size_t args_len;   /* bytes in args, without the NUL */
    uint32_t attempt;  /* attempt number the frontend last saw (0 = new) */
    int64_t deadline_ms; /* Unix ms after which the task is pointless, 0 = none */
};

/* Encode 'env' into a new malloc'd buffer (*out, *out_len); caller frees.
 * Refuses what decode would refuse; env->version must be 0 or ENVELOPE_VERSION. */
MUST_CHECK int envelope_encode(const struct envelope *env, char **out, size_t *out_len,
                               struct err *err);
/* Decode exactly 'len' bytes into 'env'; on success the caller calls envelope_fini().
 * 'env' is overwritten, not freed first; on failure it is zeroed and owns nothing. */
MUST_CHECK int envelope_decode(const void *buf, size_t len, struct envelope *env,
                               struct err *err);
/* Release what decode allocated; safe on a zeroed or already-finished envelope. */
void envelope_fini(struct envelope *env);

#endif
