/*
 * buf.c - a growable byte buffer with a size limit.
 *
 * Grows by doubling from 256 bytes and keeps one byte for a NUL so callers
 * may read the bytes as a string.  It knows nothing of what it holds.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define BUF_FIRST_CAP 256 /* bytes allocated at the first append */

/*
 * Append 'n' bytes at 'src' to 'b' and NUL-terminate, unless b->len would then
 * pass 'max' (returns -BUF_ETOOBIG) or memory runs out (-BUF_ENOMEM); on
 * failure 'b' is unchanged.  Returns 0 on success.  No global state.
 */
int buf_append(struct buf *b, const char *src, size_t n, size_t max)
{
    if (n > max || b->len > max - n)
        return -BUF_ETOOBIG;
    if (b->len + n == SIZE_MAX)
        return -BUF_ENOMEM; /* no room for the NUL */
    if (b->len + n + 1 > b->cap) {
        size_t ncap = b->cap ? b->cap : BUF_FIRST_CAP;
        while (ncap < b->len + n + 1) {
            if (ncap > SIZE_MAX / 2)
                return -BUF_ENOMEM;
            ncap *= 2;
        }
        char *ndata = realloc(b->data, ncap);
        if (!ndata)
            return -BUF_ENOMEM;
        b->data = ndata;
        b->cap = ncap;
    }
    if (n > 0)
        memcpy(b->data + b->len, src, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

/* Free the bytes of 'b' (which may be empty) and leave it empty. */
void buf_fini(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}
