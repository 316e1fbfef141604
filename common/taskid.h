/*
 * taskid.h - task ids: UUIDv4 text with 122 random bits from getrandom(2).
 *
 * Unguessable by construction; an id is still never a capability: tasks are
 * authorised by owner too.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_TASKID_H
#define TASKWIRE_TASKID_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define TASKID_LEN 36 /* canonical text, without the NUL */

/* Write a new lowercase canonical UUIDv4 (37 bytes with the NUL) into 'out'.
 * Returns 0, or -errno when the kernel could not supply randomness. */
MUST_CHECK int taskid_new(char out[TASKID_LEN + 1]);
/* True when 's' is exactly 36 chars of canonical lowercase UUID text (any version). */
bool taskid_valid(const char *s);
/* The smallest and largest canonical ids that start with 'prefix' (hex digits in
 * either case, dashes where the canonical form has them, at most 36 chars); false
 * when no id can start with it. */
bool taskid_prefix_range(const char *prefix, char lo[TASKID_LEN + 1], char hi[TASKID_LEN + 1]);

#endif
