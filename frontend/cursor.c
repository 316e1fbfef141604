/*
 * cursor.c - encode and decode tasks/list cursors.
 *
 * Layout: "c1." base64url("<created_us>|<task id>"), the microseconds in
 * decimal without leading zeros.  A decoded cursor is encoded again and
 * must give the same text, so each position has exactly one cursor.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "cursor.h"

#include <stdio.h>
#include <string.h>

#include "b64.h"

#define CURSOR_PREFIX "c1."

/*
 * Write the cursor of position (created_us, id) into 'out'.  Returns 0, or
 * -CURSOR_EINVALID when 'id' is not a task id or 'created_us' is negative.
 * Pure.
 */
int cursor_encode(int64_t created_us, const char *id, char out[CURSOR_MAX_LEN + 1])
{
    char text[64];
    if (created_us < 0 || !taskid_valid(id))
        return -CURSOR_EINVALID;
    int n = snprintf(text, sizeof(text), "%lld|%s", (long long)created_us, id);
    if (n < 0 || (size_t)n >= sizeof(text))
        return -CURSOR_EINVALID;
    size_t pre = strlen(CURSOR_PREFIX);
    memcpy(out, CURSOR_PREFIX, pre);
    b64url_encode((const unsigned char *)text, (size_t)n, out + pre);
    return 0;
}

/*
 * Decode 'cursor' (untrusted; at most CURSOR_MAX_LEN bytes looked at) into
 * *created_us and 'id'.  Returns 0, or -CURSOR_EINVALID for anything that
 * cursor_encode() would not have written.  Pure.
 */
int cursor_decode(const char *cursor, int64_t *created_us, char id[TASKID_LEN + 1])
{
    size_t len = cursor ? strnlen(cursor, CURSOR_MAX_LEN + 1) : 0;
    size_t pre = strlen(CURSOR_PREFIX);
    if (len <= pre || len > CURSOR_MAX_LEN || memcmp(cursor, CURSOR_PREFIX, pre) != 0)
        return -CURSOR_EINVALID;
    unsigned char text[B64_DECODED_MAX(CURSOR_MAX_LEN) + 1];
    long n = b64_decode(cursor + pre, len - pre, true, text, sizeof(text) - 1);
    if (n <= 0)
        return -CURSOR_EINVALID;
    text[n] = '\0';
    if (memchr(text, '\0', (size_t)n))
        return -CURSOR_EINVALID;
    long long us = -1;
    char got[TASKID_LEN + 2];
    if (sscanf((const char *)text, "%19lld|%37s", &us, got) != 2 || us < 0)
        return -CURSOR_EINVALID;
    char again[CURSOR_MAX_LEN + 1];
    if (cursor_encode(us, got, again) < 0 || strlen(again) != len ||
        memcmp(again, cursor, len) != 0)
        return -CURSOR_EINVALID;
    *created_us = us;
    memcpy(id, got, TASKID_LEN + 1);
    return 0;
}
