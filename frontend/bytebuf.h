/*
 * bytebuf.h - a growable byte buffer with a read cursor.
 *
 * Holds a request body while it arrives and the bytes of an SSE stream until
 * libmicrohttpd takes them.  Growth doubles from 4 KiB and is checked for
 * overflow; a failed append leaves the buffer as it was.  No I/O, no locking:
 * a buffer belongs to one request.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_BYTEBUF_H
#define TASKWIRE_BYTEBUF_H

#include <stddef.h>

#include "err.h"

enum bytebuf_error {
    BYTEBUF_ENOMEM = 1, /* allocation failed or the size would overflow */
};

/* Zero-initialise ({0}) before use; release with bytebuf_fini(). */
struct bytebuf {
    char *data; /* owned; NULL until the first append */
    size_t len; /* bytes appended (read or not) */
    size_t cap; /* bytes allocated */
    size_t off; /* bytes already handed out by bytebuf_read() */
};

/* Append 'n' bytes copied from 'data': 0, or -BYTEBUF_ENOMEM with 'b' unchanged. */
MUST_CHECK int bytebuf_append(struct bytebuf *b, const void *data, size_t n);
/* Copy up to 'max' unread bytes to 'dst'; returns how many.  Empties 'b' once all are read. */
size_t bytebuf_read(struct bytebuf *b, char *dst, size_t max);
/* Bytes appended but not read yet. */
size_t bytebuf_unread(const struct bytebuf *b);
/* Free the storage; the buffer is empty and reusable afterwards. */
void bytebuf_fini(struct bytebuf *b);

#endif
