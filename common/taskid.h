/*
 * taskid.h - task ids: UUIDv7 text with 74 random bits from getrandom(2).
 *
 * Ids sort by creation time (48-bit Unix ms prefix), which keeps B-tree
 * inserts local.  An id is never a capability: tasks are still authorised by
 * owner.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_TASKID_H
#define TASKWIRE_TASKID_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define TASKID_LEN 36 /* canonical text, without the NUL */

/* Write a new lowercase canonical UUIDv7 (37 bytes with the NUL) into 'out'.
 * Returns 0, or -errno when the kernel could not supply randomness. */
MUST_CHECK int taskid_new(char out[TASKID_LEN + 1]);
/* Same, with the given Unix-ms timestamp (for tests of ordering); only its low 48 bits count. */
MUST_CHECK int taskid_new_at(char out[TASKID_LEN + 1], uint64_t unix_ms);
/* True when 's' is exactly 36 chars of canonical lowercase UUID text (any version). */
bool taskid_valid(const char *s);

#endif
