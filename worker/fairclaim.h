/*
 * fairclaim.h - which task a free slot may claim: the per-owner running cap,
 * the reserved slots, and the fair claim after a refused one.
 *
 * Every claim carries a running cap: an owner may hold at most that many
 * running tasks cluster-wide (counted in PostgreSQL at the claim).  A slot
 * filled while the worker has more free slots than it reserves uses the
 * configured cap (owner_max_running, 0 = none); a reserved slot (the last
 * 'reserved' free ones) takes only owners with nothing running, so one
 * principal's backlog of long tasks can never hold every slot and another
 * principal's first task starts at once.  A pushed task the cap refuses stays
 * queued (the envelope was only a hint); the slot then claims the fairest
 * eligible task instead (store_task_claim_next), at most once per quiet
 * period after such a claim found nothing, so a stream of refused envelopes
 * cannot turn into a stream of queue scans.  No I/O besides the store calls;
 * thread-safe (one atomic).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_FAIRCLAIM_H
#define TASKWIRE_FAIRCLAIM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "store.h"

/* The claim policy of one worker; set the first three fields, zero the rest. */
struct fairclaim {
    int max_running;              /* running tasks per owner, cluster-wide; 0 = no cap */
    int reserved;                 /* free slots kept for owners with nothing running */
    int64_t quiet_ms;             /* after a fallback claim found nothing, none for this long */
    _Atomic int64_t quiet_until;  /* no fallback claim before this (monotonic ms) */
};

/* The running cap (0 = none) of a claim into one of 'idle' free slots of a worker with
 * 'slots' slots in all (the one being filled counts as free). */
int fairclaim_cap(const struct fairclaim *fc, int idle, int slots);
/* True when a refused claim may fall back to the fair claim at 'now_ms' (monotonic). */
bool fairclaim_may_fall_back(struct fairclaim *fc, int64_t now_ms);
/* A fallback claim found nothing at 'now_ms': keep quiet for quiet_ms. */
void fairclaim_found_nothing(struct fairclaim *fc, int64_t now_ms);
/* Claim pushed task 'id' under 'cap', else (when allowed) the fairest eligible task;
 * 0 with *row filled (caller owns it), or a -STORE_* code. */
MUST_CHECK int fairclaim_take(struct fairclaim *fc, struct store *st, const char *id,
                              const char *worker, int64_t lease_ms, int cap,
                              struct task_row *row, struct err *err);
/* The second half of fairclaim_take(), for a pushed task whose claim found nothing. */
MUST_CHECK int fairclaim_fall_back(struct fairclaim *fc, struct store *st, const char *worker,
                                   int64_t lease_ms, int cap, struct task_row *row);

#endif
