/*
 * b64.h - strict base64 (RFC 4648) for tokens, headers and requestState.
 *
 * Decoding accepts exactly one encoding per byte string: the standard
 * alphabet with '=' padding required, or the URL alphabet without padding;
 * any other character, a stray length or non-zero trailing bits is refused,
 * so signatures and MACs cannot be made malleable.  No I/O, no allocation.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_B64_H
#define TASKWIRE_B64_H

#include <stdbool.h>
#include <stddef.h>

#define B64_EINVALID 1 /* returned negated: not exactly one canonical encoding, or too long */

/* Bytes needed to decode 'n' characters (an upper bound). */
#define B64_DECODED_MAX(n) ((n) / 4 * 3 + 3)
/* Characters (with the NUL) needed to encode 'n' bytes. */
#define B64_ENCODED_MAX(n) (((n) + 2) / 3 * 4 + 1)

/* Decode 'n' characters ('url': URL alphabet, no padding; else standard, padded)
 * into 'out' (capacity 'cap').  Returns the decoded length, or -B64_EINVALID. */
long b64_decode(const char *in, size_t n, bool url, unsigned char *out, size_t cap);
/* True for a character of the base64url alphabet. */
bool b64url_char(unsigned char c);
/* Encode 'n' bytes as unpadded base64url into 'out' (B64_ENCODED_MAX(n) bytes),
 * NUL-terminated.  Returns the length written. */
size_t b64url_encode(const unsigned char *in, size_t n, char *out);

#endif
