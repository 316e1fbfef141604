/*
 * fairclaim.c - the running cap of each claim, and the fair claim a refused one falls back to.
 *
 * The caps are counted by the claim statements themselves (store_sql.c);
 * this module only decides which cap a claim carries and whether a refused
 * pushed task is followed by a fair claim from the queue.  A refused task is
 * never lost: it stays queued, the redispatcher pushes it again and idle
 * polls find it once its owner is under the cap.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "fairclaim.h"

#include "clock.h"

/*
 * The running cap of a claim into one of 'idle' free slots (the slot being
 * filled included) of a worker with 'slots' slots.  The last 'reserved'
 * free slots (never all of them: a worker keeps at least one slot open to
 * anyone) take only owners with nothing running (cap 1); the others take
 * any owner under max_running (0 = no cap).  Pure; thread-safe.
 */
int fairclaim_cap(const struct fairclaim *fc, int idle, int slots)
{
    int reserved = fc->reserved < slots ? fc->reserved : slots - 1;
    if (reserved > 0 && idle <= reserved)
        return 1;
    return fc->max_running > 0 ? fc->max_running : 0;
}

/*
 * True when a refused claim may be followed by a fair claim now: not within
 * quiet_ms after a fair claim that found nothing.  Thread-safe.
 */
bool fairclaim_may_fall_back(struct fairclaim *fc, int64_t now_ms)
{
    return now_ms >= atomic_load(&fc->quiet_until);
}

/* Record that a fair claim at 'now_ms' found nothing eligible.  Thread-safe. */
void fairclaim_found_nothing(struct fairclaim *fc, int64_t now_ms)
{
    atomic_store(&fc->quiet_until, now_ms + fc->quiet_ms);
}

/*
 * Claim pushed task 'id' for 'worker' unless its owner runs 'cap' tasks
 * already (0 = no cap).  When that claim finds nothing (the task is gone,
 * claimed, not due yet, or its owner is at the cap: then it stays queued),
 * claim the fairest eligible task under the same cap instead, unless a
 * fallback found nothing within the quiet period.  Returns 0 with *row
 * filled (the caller owns it and releases it with task_row_fini()), or the
 * store's negative code: -STORE_ENOTFOUND when nothing was claimed.  Runs on
 * the caller's thread with the caller's store.
 */
int fairclaim_take(struct fairclaim *fc, struct store *st, const char *id, const char *worker,
                   int64_t lease_ms, int cap, struct task_row *row, struct err *err)
{
    int rc = store_task_claim(st, id, worker, lease_ms, cap, row, err);
    if (rc != -STORE_ENOTFOUND)
        return rc;
    return fairclaim_fall_back(fc, st, worker, lease_ms, cap, row);
}

/*
 * After a claim of a pushed task found nothing: the fairest eligible task
 * under 'cap', unless a fallback found nothing within the quiet period.
 * 0 with *row filled, or -STORE_ENOTFOUND (or the store's failure).
 */
int fairclaim_fall_back(struct fairclaim *fc, struct store *st, const char *worker,
                        int64_t lease_ms, int cap, struct task_row *row)
{
    if (!fairclaim_may_fall_back(fc, clock_now_ms()))
        return -STORE_ENOTFOUND;
    int rc = store_task_claim_next(st, worker, lease_ms, cap, row, NULL);
    if (rc == -STORE_ENOTFOUND)
        fairclaim_found_nothing(fc, clock_now_ms());
    return rc;
}
