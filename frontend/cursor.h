/*
 * cursor.h - the opaque tasks/list cursor.
 *
 * A cursor names the last task of a page by its position in the list
 * order, (created_at in microseconds, id), so the next page is a keyset
 * read that neither skips nor repeats a task however many are created
 * meanwhile.  It is not signed: the list is always read with the caller as
 * owner, so a forged cursor can only move within the caller's own tasks.
 * Decoding is strict (one encoding per position).  Pure; fuzzed.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_CURSOR_H
#define TASKWIRE_CURSOR_H

#include <stdint.h>

#include "err.h"
#include "taskid.h"

#define CURSOR_MAX_LEN 96 /* longest cursor accepted, and the buffer to encode into */

enum cursor_error {
    CURSOR_EINVALID = 1, /* not a cursor this server issued */
};

/* Encode the position (created_us, id) into 'out': 0, or -CURSOR_EINVALID for a bad id. */
MUST_CHECK int cursor_encode(int64_t created_us, const char *id, char out[CURSOR_MAX_LEN + 1]);
/* Decode untrusted 'cursor' into the position: 0, or -CURSOR_EINVALID. */
MUST_CHECK int cursor_decode(const char *cursor, int64_t *created_us, char id[TASKID_LEN + 1]);

#endif
