/*
 * b64.c - strict base64 and base64url.
 *
 * One alphabet table and one decoder for both forms; the encoder writes
 * only the URL form (tokens, headers, requestState).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "b64.h"

#include <stdint.h>

static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int value(unsigned char c, bool url)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -B64_EINVALID;
}

/*
 * Strict decode; see b64.h.  The standard form must be a multiple of four
 * characters with at most two '=' at the end; the URL form has no '=' and
 * never a length of 4k+1.  Leftover bits must be zero.
 */
long b64_decode(const char *in, size_t n, bool url, unsigned char *out, size_t cap)
{
    if (!url) {
        if (n % 4 != 0)
            return -B64_EINVALID;
        for (int pad = 0; pad < 2 && n > 0 && in[n - 1] == '='; pad++)
            n--;
    }
    if (n % 4 == 1)
        return -B64_EINVALID;
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = value((unsigned char)in[i], url);
        if (v < 0)
            return -B64_EINVALID;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == cap)
                return -B64_EINVALID;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    return acc == 0 ? (long)o : -B64_EINVALID;
}

/* True when 'c' is one of the 64 characters of the base64url alphabet.  Thread-safe. */
bool b64url_char(unsigned char c)
{
    return value(c, true) >= 0;
}

/*
 * Encode 'n' bytes at 'in' as unpadded base64url into 'out', which must
 * hold B64_ENCODED_MAX(n) bytes; the text is NUL-terminated.  Returns its
 * length (without the NUL).  No allocation; thread-safe.
 */
size_t b64url_encode(const unsigned char *in, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = url_alphabet[(v >> 18) & 63];
        out[o++] = url_alphabet[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = url_alphabet[(v >> 6) & 63];
        if (i + 2 < n)
            out[o++] = url_alphabet[v & 63];
    }
    out[o] = '\0';
    return o;
}
