/*
 * buf.h - a growable byte buffer with a size limit, for replies and SSE lines.
 *
 * The caller owns the struct (zero it to start) and releases
 * its bytes with buf_fini().  Appending never passes the limit it is given,
 * so a hostile server cannot make the CLI buffer without bound.  No I/O, no
 * global state.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_CLI_BUF_H
#define TASKWIRE_CLI_BUF_H

#include <stddef.h>

#include "err.h"

enum buf_error {
    BUF_ETOOBIG = 1, /* the bytes would pass the limit */
    BUF_ENOMEM,      /* allocation failed */
};

/* Bytes with their length; 'data' is NUL-terminated once anything was appended. */
struct buf {
    char *data; /* owned; NULL until the first append */
    size_t len; /* bytes used, without the NUL */
    size_t cap; /* bytes allocated */
};

/* Append 'n' bytes, keeping len <= 'max'; 0, -BUF_ETOOBIG or -BUF_ENOMEM (b unchanged). */
MUST_CHECK int buf_append(struct buf *b, const char *src, size_t n, size_t max);
/* Free the bytes; the struct is empty again. */
void buf_fini(struct buf *b);

#endif
