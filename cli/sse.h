/*
 * sse.h - an incremental Server-Sent Events parser (WHATWG event-stream rules).
 *
 * Bytes go in as they arrive, split anywhere; complete events come out through
 * a callback.  Pure: no I/O, no global state, no knowledge of JSON-RPC (the
 * client decides what an event's data means).  A line or an event's data
 * longer than max_bytes is refused rather than buffered, and the "id" and
 * "retry" fields are ignored because these streams cannot be resumed.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_CLI_SSE_H
#define TASKWIRE_CLI_SSE_H

#include <stdbool.h>
#include <stddef.h>

#include "bytebuf.h"
#include "err.h"

#define SSE_MAX_BYTES (16u << 20) /* default longest line or event data we buffer */

enum sse_error {
    SSE_ETOOLONG = 1, /* a line or an event's data passed max_bytes */
    SSE_ENOMEM,       /* allocation failed */
};

/* Parser state; the caller owns it (sse_init / sse_fini). */
struct sse {
    struct bytebuf line;  /* bytes of a line split across feeds, without its terminator */
    struct bytebuf data;  /* "data" of the event being built, lines joined with '\n' */
    bool has_data;    /* a data field was seen since the last dispatch */
    bool after_cr;    /* the last byte was CR, so a following LF ends nothing */
    bool started;     /* past the first line (where a BOM is skipped) */
    char event[64];   /* "event" field of the event being built (cut), "" = "message" */
    size_t max_bytes; /* limit for a line and for an event's data; may be lowered */
};

/* Called once per complete event with a NUL-terminated copy of its data (valid during
 * the call; it may hold NUL bytes of its own, so use 'len'); 0 to go on, 1 to stop. */
typedef int sse_cb(void *ctx, const char *event, const char *data, size_t len);

/* Start an empty parser with max_bytes = SSE_MAX_BYTES. */
void sse_init(struct sse *p);
/* Release its buffers; the struct may be initialised again. */
void sse_fini(struct sse *p);
/* Parse 'len' bytes; 0 when all used, 1 when 'cb' asked to stop, or -SSE_E*. */
MUST_CHECK int sse_feed(struct sse *p, const char *buf, size_t len, sse_cb *cb, void *ctx);

#endif
