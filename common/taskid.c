/*
 * taskid.c - task ids as UUIDv7 text (RFC 9562), random bits from getrandom(2).
 *
 * Builds and checks canonical lowercase UUID text; it does not parse ids back
 * into bytes and does not order ids created within the same millisecond.
 * Invariant: every id written here has version 7, variant 0b10, and 74 bits
 * straight from the kernel's CSPRNG (no userspace PRNG, no state).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "taskid.h"

#include <errno.h>
#include <stddef.h>
#include <sys/random.h>
#include <time.h>

#define TASKID_MS_MASK ((UINT64_C(1) << 48) - 1) /* the 48-bit unix_ts_ms field */

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
 * Write a new UUIDv7 for the Unix time 'unix_ms' into 'out' (37 bytes with the
 * NUL).  Only the low 48 bits of 'unix_ms' are used, as RFC 9562 lays out
 * (they last until the year 10889).
 *
 * Returns 0, or -errno from getrandom(2) (EINTR is retried), in which case
 * 'out' is left untouched.  Thread-safe; keeps no state.
 */
int taskid_new_at(char out[TASKID_LEN + 1], uint64_t unix_ms)
{
    unsigned char b[16];
    int rc;

    /* Bytes 6..15 are random, then version and variant overwrite 6 of those bits. */
    rc = taskid_random(b + 6, 10);
    if (rc < 0)
        return rc;

    unix_ms &= TASKID_MS_MASK;
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(unix_ms >> (8 * (5 - i)));
    b[6] = (unsigned char)(0x70 | (b[6] & 0x0f)); /* version 7, 4 of the 12 rand_a bits */
    b[8] = (unsigned char)(0x80 | (b[8] & 0x3f)); /* variant 0b10, 6 of the 62 rand_b bits */

    taskid_format(out, b);
    return 0;
}

/*
 * Write a new UUIDv7 for the current CLOCK_REALTIME millisecond into 'out'.
 *
 * Returns 0, or -errno when the clock or getrandom(2) fails.  Ids made in the
 * same millisecond are unique (74 random bits) but not ordered.  Thread-safe.
 */
int taskid_new(char out[TASKID_LEN + 1])
{
    struct timespec ts;

    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return -errno;
    /* A clock set before 1970 is a broken host; clamp rather than wrap to year 10889. */
    if (ts.tv_sec < 0) {
        ts.tv_sec = 0;
        ts.tv_nsec = 0;
    }
    return taskid_new_at(out, (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u);
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
