/*
 * utf8.h - the one UTF-8 decoder: validating, cutting at character
 * boundaries, sanitising arbitrary bytes, counting characters.
 *
 * PostgreSQL and JSON accept only valid UTF-8 without NUL, so every text that
 * crosses into the store or a log goes through here.  Strict RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF.  No I/O, no
 * allocation; every function is bounded by the lengths it is given.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_UTF8_H
#define TASKWIRE_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Length (1..4) of the valid UTF-8 character at 's' with 'n' > 0 bytes left, or 0. */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* True when the 'n' bytes at 's' are valid UTF-8 (NUL counts as valid). */
bool utf8_valid(const char *s, size_t n);
/* The longest prefix of the 'n' bytes at 's' that is at most 'max' bytes and does not
 * end inside a multi-byte character. */
size_t utf8_prefix_len(const char *s, size_t n, size_t max);
/* Copy the NUL-terminated 'src' into 'dst' ('cap' > 0 bytes), cut at a character
 * boundary when it does not fit; 'dst' is always NUL-terminated.  Returns its length. */
size_t utf8_copy(char *dst, size_t cap, const char *src);
/* Write 'n' arbitrary bytes as valid UTF-8 without NUL: each byte that does not start a
 * valid character (and each NUL) becomes U+FFFD.  'dst' must hold 3 * n + 1 bytes;
 * it is NUL-terminated.  Returns the bytes written, without the NUL. */
size_t utf8_sanitize(char *dst, const char *src, size_t n);
/* Characters (code points) in the 'n' bytes of valid UTF-8 at 's'. */
size_t utf8_count(const char *s, size_t n);

#endif
