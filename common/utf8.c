/*
 * utf8.c - validating, cutting, sanitising and counting UTF-8.
 *
 * Pure functions over byte ranges.  It does not normalise, case-fold or
 * measure display width.  Invariant: a cut never splits a character, and
 * sanitised output is always valid UTF-8 without NUL.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "utf8.h"

#include <string.h>

static bool continuation(unsigned char c)
{
    return (c & 0xc0) == 0x80;
}

/*
 * Length of the valid UTF-8 character at 's' when 'n' (> 0) bytes are left:
 * 1..4, or 0 for a stray continuation byte, an overlong form (0xc0, 0xc1,
 * 0xe0 0x80..0x9f, 0xf0 0x80..0x8f), a surrogate (0xed 0xa0..0xbf), a code
 * point past U+10FFFF, a lead byte 0xf5..0xff, or a truncated sequence.
 */
size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        lo = c == 0xe0 ? 0xa0 : 0x80; /* no overlong */
        hi = c == 0xed ? 0x9f : 0xbf; /* no surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        lo = c == 0xf0 ? 0x90 : 0x80; /* no overlong */
        hi = c == 0xf4 ? 0x8f : 0xbf; /* nothing past U+10FFFF */
    } else {
        return 0;
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (!continuation(s[i]))
            return 0;
    return len;
}

/* True when all 'n' bytes at 's' form valid UTF-8. */
bool utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t len = utf8_seq_len(p + i, n - i);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

/*
 * The length of the longest prefix of 's' (n bytes) that fits in 'max' bytes
 * without ending inside a character: when cutting, back off over the
 * continuation bytes of the character that would be split.
 */
size_t utf8_prefix_len(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    size_t k = max;
    while (k > 0 && continuation((unsigned char)s[k]))
        k--;
    return k;
}

/* Copy 'src' into 'dst' (cap > 0), cut at a character boundary; returns the length. */
size_t utf8_copy(char *dst, size_t cap, const char *src)
{
    size_t n = utf8_prefix_len(src, strnlen(src, cap), cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
    return n;
}

/* Sanitise 'n' bytes of 'src' into 'dst' (3 * n + 1 bytes); returns bytes written. */
size_t utf8_sanitize(char *dst, const char *src, size_t n)
{
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0, o = 0;
    while (i < n) {
        size_t len = s[i] ? utf8_seq_len(s + i, n - i) : 0;
        if (len == 0) {
            memcpy(dst + o, "\xef\xbf\xbd", 3);
            o += 3;
            i++;
        } else {
            memcpy(dst + o, s + i, len);
            o += len;
            i += len;
        }
    }
    dst[o] = '\0';
    return o;
}

/* Code points in 'n' bytes of valid UTF-8 (continuation bytes are not counted). */
size_t utf8_count(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += !continuation((unsigned char)s[i]);
    return count;
}
