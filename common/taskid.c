/*
 * taskid.c - task ids as UUIDv4 text (RFC 9562), random bits from getrandom(2).
 *
 * Builds and checks canonical lowercase UUID text; it does not parse ids back
 * into bytes.  Invariant: every id written here has version 4, variant 0b10,
 * and 122 bits straight from the kernel's CSPRNG (no userspace PRNG, no
 * state), so an id cannot be guessed even though access is also checked by
 * owner.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "taskid.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/random.h>

/* Fill 'buf' with 'len' bytes from getrandom(2); returns 0 or -errno. */
static int taskid_random(unsigned char *buf, size_t len)
{
    size_t got = 0;

    while (got < len) {
        ssize_t n = getrandom(buf + got, len - got, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        got += (size_t)n;
    }
    return 0;
}

/* Write the 16 bytes of 'b' as 8-4-4-4-12 lowercase hex plus a NUL. */
static void taskid_format(char out[TASKID_LEN + 1], const unsigned char b[16])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;

    for (size_t i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 0x0f];
    }
    out[o] = '\0';
}

/*
 * Write a new UUIDv4 into 'out' (37 bytes with the NUL): 122 random bits,
 * then version 4 and variant 0b10.  Returns 0, or -errno from getrandom(2)
 * (EINTR is retried), in which case 'out' is left untouched.  Thread-safe;
 * keeps no state.
 */
int taskid_new(char out[TASKID_LEN + 1])
{
    unsigned char b[16];
    int rc = taskid_random(b, sizeof(b));
    if (rc < 0)
        return rc;
    b[6] = (unsigned char)(0x40 | (b[6] & 0x0f)); /* version 4 */
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3f)); /* variant 0b10 */
    taskid_format(out, b);
    return 0;
}

/*
 * True when 's' is exactly 36 characters of canonical UUID text: dashes at
 * offsets 8, 13, 18 and 23 and lowercase hex digits everywhere else.  Any
 * version and variant are accepted.  NULL is not valid.  Reads at most 37
 * bytes of 's'.  Thread-safe.
 */
bool taskid_valid(const char *s)
{
    if (s == NULL)
        return false;
    for (size_t i = 0; i < TASKID_LEN; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false; /* also stops at a NUL before offset 36 */
        }
    }
    return s[TASKID_LEN] == '\0';
}

/*
 * Fill 'lo' and 'hi' with the smallest and largest canonical ids that start
 * with 'prefix': its characters (hex digits lowercased) followed by '0's or
 * 'f's, with dashes at offsets 8, 13, 18 and 23.  "" gives the whole range.
 * Returns false, leaving both unspecified, when 'prefix' is NULL, longer than
 * an id, or has a character no id has at that offset.  Since ids are
 * canonical text and uuid order is byte order, the ids starting with
 * 'prefix' are exactly those in [lo, hi].  Pure; thread-safe.
 */
bool taskid_prefix_range(const char *prefix, char lo[TASKID_LEN + 1], char hi[TASKID_LEN + 1])
{
    size_t n = prefix ? strnlen(prefix, TASKID_LEN + 1) : TASKID_LEN + 1;
    if (n > TASKID_LEN)
        return false;
    for (size_t i = 0; i < TASKID_LEN; i++) {
        bool dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = i < n ? prefix[i] : 0;
        if (c >= 'A' && c <= 'F')
            c = (char)(c - 'A' + 'a');
        if (i < n && (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))))
            return false;
        lo[i] = dash ? '-' : i < n ? c : '0';
        hi[i] = dash ? '-' : i < n ? c : 'f';
    }
    lo[TASKID_LEN] = hi[TASKID_LEN] = '\0';
    return true;
}
