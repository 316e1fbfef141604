/*
 * bytebuf.h - a growable byte buffer with an optional size limit and a read cursor.
 *
 * Holds a request body while it arrives, the bytes of an SSE stream until
 * libmicrohttpd takes them, and the CLI's replies and SSE lines.  Growth
 * doubles from 256 bytes and is checked for overflow; one byte past the data
 * is always a NUL, so the bytes read as a string; a failed append leaves the
 * buffer as it was.  No I/O, no locking: a buffer belongs to one user.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_BYTEBUF_H
#define TASKWIRE_BYTEBUF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define BYTEBUF_NO_LIMIT (SIZE_MAX - 1) /* bytebuf_append(): no limit but memory */

enum bytebuf_error {
    BYTEBUF_ETOOBIG = 1, /* the bytes would pass the limit */
    BYTEBUF_ENOMEM,      /* allocation failed or the size would overflow */
};

/* Zero-initialise ({0}) before use; release with bytebuf_fini(). */
struct bytebuf {
    char *data; /* owned; NULL until the first append, then NUL-terminated at len */
    size_t len; /* bytes appended (read or not), without the NUL */
    size_t cap; /* bytes allocated */
    size_t off; /* bytes already handed out by bytebuf_read() */
};

/* Append 'n' bytes copied from 'data', keeping len <= 'max': 0, -BYTEBUF_ETOOBIG or
 * -BYTEBUF_ENOMEM with 'b' unchanged. */
MUST_CHECK int bytebuf_append(struct bytebuf *b, const void *data, size_t n, size_t max);
/* Copy up to 'max' unread bytes to 'dst'; returns how many.  Empties 'b' once all are read. */
size_t bytebuf_read(struct bytebuf *b, char *dst, size_t max);
/* Bytes appended but not read yet. */
size_t bytebuf_unread(const struct bytebuf *b);
/* Free the storage; the buffer is empty and reusable afterwards. */
void bytebuf_fini(struct bytebuf *b);

#endif
