/*
 * ratelimit.h - rate limits per principal and budget, shared by every frontend.
 *
 * Each (principal, budget) has one GCRA bucket in Redis, charged by one Lua
 * script (gcra.h) with EVALSHA, and EVAL when Redis answers NOSCRIPT (after a
 * restart or SCRIPT FLUSH); Redis's clock serves every frontend.  While Redis
 * is unreachable (or not configured) the buckets live in this process and
 * every limit is divided by the number of frontends: the same total, never
 * none.  That fallback is counted (taskwire_ratelimit_fallback_total) and
 * logged at warn level at most every RATELIMIT_WARN_MS.  Each thread uses its
 * own Redis connection (made on first use, with short timeouts, and again
 * after a failure no more than once a second); the fallback table is shared
 * under a mutex.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_RATELIMIT_H
#define TASKWIRE_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#include "quota.h"

#define RATELIMIT_WARN_MS 10000 /* at most one fallback warning this often */

/* Where the decision was made (for tests and logs). */
enum ratelimit_where {
    RATELIMIT_REDIS,    /* by the script in Redis */
    RATELIMIT_FALLBACK, /* in process: Redis unreachable or not configured */
};

struct ratelimit;

/* A limiter over Redis at 'redis_addr' ("" or NULL: in process only) shared by 'frontends'
 * frontends; NULL when out of memory or the address is malformed. */
struct ratelimit *ratelimit_new(const char *redis_addr, int frontends);
/* Release; NULL is a no-op.  Every thread that used it must have ended (or be this one). */
void ratelimit_free(struct ratelimit *rl);
/* Charge one request of 'principal' to 'budget' under 'lim': true when allowed, else false
 * with *retry_after_ms set.  *where (may be NULL) tells who decided. */
bool ratelimit_take(struct ratelimit *rl, const char *principal, enum quota_budget budget,
                    const struct quota_set *lim, int64_t *retry_after_ms,
                    enum ratelimit_where *where);
/* Register the fallback counter; call once before serving. */
void ratelimit_metrics_register(void);

#endif
