/*
 * gcra.c - the generic cell rate algorithm in process (the Redis script's twin).
 *
 * Integer microseconds throughout, as in the script, so both agree to the
 * microsecond on the same inputs.  No state of its own: the caller keeps
 * each key's TAT.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "gcra.h"

/*
 * The limit of 'per_s' requests a second with bursts of 'burst', shared by
 * 'share' processes that cannot see each other (the in-process fallback of
 * every frontend): each gets the rate and the burst divided by 'share', the
 * burst never below 1.  per_s <= 0 gives "no limit" (interval 0).  Pure.
 */
struct gcra_limit gcra_limit_of(int64_t per_s, int64_t burst, int share)
{
    struct gcra_limit l = {0, 0};
    if (per_s <= 0)
        return l;
    if (share < 1)
        share = 1;
    int64_t interval = 1000000 / per_s;
    l.interval_us = (interval > 0 ? interval : 1) * share;
    l.burst = (burst < 1 ? 1 : burst) / share;
    if (l.burst < 1)
        l.burst = 1;
    return l;
}

/*
 * Take one request at 'now_us' (any clock, the same for every call on a key)
 * against the key's stored TAT (*tat_us; 0 or a time in the past: the bucket
 * is full).  When allowed, returns true and stores the new TAT; otherwise
 * returns false, leaves *tat_us alone and sets *retry_after_ms to how long
 * until one request would pass (rounded up, at least 1).  A limit with a zero
 * interval allows everything.  Pure.
 */
bool gcra_take(const struct gcra_limit *l, int64_t now_us, int64_t *tat_us,
               int64_t *retry_after_ms)
{
    *retry_after_ms = 0;
    if (l->interval_us <= 0)
        return true;
    int64_t tat = *tat_us > now_us ? *tat_us : now_us;
    int64_t new_tat = tat + l->interval_us;
    int64_t allow_at = new_tat - l->burst * l->interval_us;
    if (now_us < allow_at) {
        *retry_after_ms = (allow_at - now_us + 999) / 1000;
        return false;
    }
    *tat_us = new_tat;
    return true;
}
