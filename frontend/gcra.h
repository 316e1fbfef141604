/*
 * gcra.h - the generic cell rate algorithm: one rate limit, one stored time per key.
 *
 * A limit is a sustained rate (one request per interval_us) and a burst (how
 * many may arrive at once).  The only state is the key's theoretical arrival
 * time (TAT): a request is allowed when now >= TAT + interval - burst *
 * interval, and then moves the TAT on by one interval.  The key can be
 * forgotten once the TAT is in the past (the bucket is full again), so an
 * idle principal costs nothing.  GCRA_SCRIPT is the same algorithm as a Redis
 * Lua script (one clock for every frontend: Redis TIME); gcra_take() is the
 * in-process version, with the caller's clock.  Pure: no I/O, no allocation.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_GCRA_H
#define TASKWIRE_GCRA_H

#include <stdbool.h>
#include <stdint.h>

/* One limit.  A zero interval means no limit. */
struct gcra_limit {
    int64_t interval_us; /* 1 s / rate: the spacing of requests at the sustained rate */
    int64_t burst;       /* requests allowed at once (>= 1) */
};

/*
 * The script: KEYS[1] the bucket, ARGV[1] interval_us, ARGV[2] burst.  Returns
 * {1, 0} when allowed (the TAT is stored, expiring when the bucket is full
 * again) or {0, retry_after_ms} when limited (nothing stored).
 */
#define GCRA_SCRIPT                                                                                \
    "local T = tonumber(ARGV[1]) local B = tonumber(ARGV[2]) "                                    \
    "local t = redis.call('TIME') "                                                                \
    "local now = tonumber(t[1]) * 1000000 + tonumber(t[2]) "                                       \
    "local tat = tonumber(redis.call('GET', KEYS[1]) or now) "                                     \
    "if tat < now then tat = now end "                                                             \
    "local new_tat = tat + T local allow_at = new_tat - B * T "                                    \
    "if now < allow_at then return {0, math.ceil((allow_at - now) / 1000)} end "                   \
    "redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', "                             \
    "math.max(1, math.ceil((new_tat - now) / 1000))) "                                             \
    "return {1, 0}"

/* The limit of 'per_s' requests a second with bursts of 'burst' (0 per_s: no limit;
 * burst < 1 counts as 1), divided by 'share' (>= 1) processes sharing it. */
struct gcra_limit gcra_limit_of(int64_t per_s, int64_t burst, int share);
/* Take one request at now_us against the stored *tat_us (0: none): true (and *tat_us moved)
 * when allowed, else false with *retry_after_ms set. */
bool gcra_take(const struct gcra_limit *l, int64_t now_us, int64_t *tat_us,
               int64_t *retry_after_ms);

#endif
