/*
 * bytebuf.c - a growable byte buffer with a read cursor.
 *
 * The read cursor lets a stream be drained in pieces of any size; once
 * everything appended was read, the buffer starts over at offset 0 so a
 * long-lived stream reuses its allocation instead of growing.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "bytebuf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BYTEBUF_FIRST_CAP 256

/*
 * Append 'n' bytes copied from 'data' (which may be NULL when 'n' is 0) and
 * keep a NUL after them.  Returns 0, -BYTEBUF_ETOOBIG when b->len would pass
 * 'max', or -BYTEBUF_ENOMEM when memory runs out or the size would overflow;
 * 'b' is then unchanged.  Not thread-safe.
 */
int bytebuf_append(struct bytebuf *b, const void *data, size_t n, size_t max)
{
    if (max > BYTEBUF_NO_LIMIT)
        max = BYTEBUF_NO_LIMIT; /* room for the NUL */
    if (n > max || b->len > max - n)
        return -BYTEBUF_ETOOBIG;
    size_t need = b->len + n + 1;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : BYTEBUF_FIRST_CAP;
        while (cap < need) {
            if (cap > SIZE_MAX / 2)
                return -BYTEBUF_ENOMEM;
            cap *= 2;
        }
        char *grown = realloc(b->data, cap);
        if (!grown)
            return -BYTEBUF_ENOMEM;
        b->data = grown;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

/*
 * Copy up to 'max' of the bytes not read yet into 'dst' and advance the
 * cursor.  Returns the number copied (0 when nothing is unread).  When the
 * last unread byte was taken the buffer is emptied, keeping its storage.
 */
size_t bytebuf_read(struct bytebuf *b, char *dst, size_t max)
{
    size_t n = b->len - b->off;
    n = n < max ? n : max;
    if (n)
        memcpy(dst, b->data + b->off, n);
    b->off += n;
    if (b->off == b->len && b->len) {
        b->off = b->len = 0;
        b->data[0] = '\0';
    }
    return n;
}

/* The number of bytes appended and not yet read. */
size_t bytebuf_unread(const struct bytebuf *b)
{
    return b->len - b->off;
}

/* Free the storage and reset 'b' to empty; safe on an empty buffer. */
void bytebuf_fini(struct bytebuf *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}
