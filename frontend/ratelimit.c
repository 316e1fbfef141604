/*
 * ratelimit.c - GCRA buckets in Redis (one Lua script), with an in-process fallback.
 *
 * A Redis failure never lets a request through unchecked: the same request
 * is charged to the fallback table instead, with every limit divided by the
 * number of frontends.  The table has a fixed size (RATELIMIT_SLOTS buckets
 * found by hashing, RATELIMIT_PROBE tried per key); a full neighbourhood
 * gives up the bucket closest to full, so a flood of principals costs memory
 * never.  Keys hold the principal verbatim: tw:rl:{<principal>}:<budget>.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "ratelimit.h"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "clock.h"
#include "gcra.h"
#include "log.h"
#include "metrics.h"
#include "notify.h"

#define RATELIMIT_SLOTS 16384       /* buckets of the fallback table */
#define RATELIMIT_PROBE 16          /* buckets tried per key */
#define RATELIMIT_CONNECT_MS 100    /* connecting to Redis */
#define RATELIMIT_COMMAND_MS 50     /* one script call */
#define RATELIMIT_RETRY_MS 1000     /* after a failure, no new connection before this */

/* One fallback bucket. */
struct slot {
    uint64_t key;   /* hash of principal and budget; 0 = free */
    int64_t tat_us; /* its theoretical arrival time (monotonic microseconds) */
};

/* One thread's Redis connection. */
struct conn {
    redisContext *ctx;   /* NULL while not connected */
    int64_t next_try_ms; /* no connection attempt before this (monotonic) */
};

struct ratelimit {
    char host[256];              /* Redis host */
    int port;                    /* Redis port; 0 = no Redis */
    int frontends;               /* processes the fallback divides each limit among */
    char sha[41];                /* SHA1 of GCRA_SCRIPT, hex */
    pthread_key_t key;           /* each thread's struct conn */
    pthread_mutex_t mu;          /* guards 'table' */
    struct slot *table;          /* RATELIMIT_SLOTS buckets */
    _Atomic int64_t next_warn_ms; /* no fallback warning before this */
    atomic_long unwarned;        /* fallback decisions since the last warning */
};

METRIC_DEFINE(m_fallback, METRIC_COUNTER, "taskwire_ratelimit_fallback_total", NULL,
              "Rate-limit decisions made in process (Redis unreachable or not configured), "
              "with every limit divided by the number of frontends");

static pthread_once_t metrics_once = PTHREAD_ONCE_INIT;

static void register_fallback(void)
{
    metrics_register(&m_fallback);
}

/* Register the fallback counter; safe to call more than once. */
void ratelimit_metrics_register(void)
{
    pthread_once(&metrics_once, register_fallback);
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void conn_free(void *p)
{
    struct conn *c = p;
    if (c && c->ctx)
        redisFree(c->ctx);
    free(c);
}

/* The SHA1 of the script, as Redis names it (EVALSHA). */
static int script_sha(char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    if (!EVP_Digest(GCRA_SCRIPT, strlen(GCRA_SCRIPT), md, &len, EVP_sha1(), NULL) || len != 20)
        return -1;
    for (unsigned i = 0; i < len; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

/*
 * A limiter for Redis at 'redis_addr' ("host:port"; NULL or "": in process
 * only), shared by 'frontends' (>= 1) frontends.  Connects nothing yet.
 * Returns a new limiter (ratelimit_free() it) or NULL when out of memory, or
 * when the address is malformed.
 */
struct ratelimit *ratelimit_new(const char *redis_addr, int frontends)
{
    struct ratelimit *rl = calloc(1, sizeof(*rl));
    if (!rl)
        return NULL;
    rl->frontends = frontends < 1 ? 1 : frontends;
    if (redis_addr && *redis_addr &&
        notify_split_addr(redis_addr, rl->host, sizeof(rl->host), &rl->port) < 0)
        goto out_free;
    if (script_sha(rl->sha) < 0 || !(rl->table = calloc(RATELIMIT_SLOTS, sizeof(*rl->table))))
        goto out_free;
    if (pthread_key_create(&rl->key, conn_free) != 0)
        goto out_free;
    pthread_mutex_init(&rl->mu, NULL);
    return rl;

out_free:
    free(rl->table);
    free(rl);
    return NULL;
}

/*
 * Release the limiter.  The threads that used it must have ended (their
 * connections were closed then); the calling thread's own is closed here.
 * NULL is a no-op.
 */
void ratelimit_free(struct ratelimit *rl)
{
    if (!rl)
        return;
    conn_free(pthread_getspecific(rl->key));
    pthread_setspecific(rl->key, NULL);
    pthread_key_delete(rl->key);
    pthread_mutex_destroy(&rl->mu);
    free(rl->table);
    free(rl);
}

/* This thread's connection, connected if possible; NULL when Redis is not reachable now. */
static redisContext *thread_ctx(struct ratelimit *rl)
{
    struct conn *c = pthread_getspecific(rl->key);
    if (!c) {
        if (!(c = calloc(1, sizeof(*c))) || pthread_setspecific(rl->key, c) != 0) {
            free(c);
            return NULL;
        }
    }
    int64_t now = clock_now_ms();
    if (c->ctx || now < c->next_try_ms)
        return c->ctx;
    c->ctx = notify_redis_connect(rl->host, rl->port, RATELIMIT_CONNECT_MS, RATELIMIT_COMMAND_MS);
    if (c->ctx)
        return c->ctx;
    c->next_try_ms = now + RATELIMIT_RETRY_MS;
    return NULL;
}

/* Drop this thread's connection after an I/O failure (reconnect later, not at once). */
static void thread_ctx_broken(struct ratelimit *rl)
{
    struct conn *c = pthread_getspecific(rl->key);
    if (!c || !c->ctx)
        return;
    redisFree(c->ctx);
    c->ctx = NULL;
    c->next_try_ms = clock_now_ms() + RATELIMIT_RETRY_MS;
}

/* Read a script reply {allowed, retry_ms}; 0, or -1 when it is not one. */
static int script_reply(const redisReply *r, bool *allowed, int64_t *retry_ms)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER || r->element[1]->type != REDIS_REPLY_INTEGER)
        return -1;
    *allowed = r->element[0]->integer == 1;
    *retry_ms = r->element[1]->integer;
    return 0;
}

/* Charge the bucket in Redis; 0 with the verdict, or -1 to fall back. */
static int take_redis(struct ratelimit *rl, const char *key, const struct gcra_limit *l,
                      bool *allowed, int64_t *retry_ms)
{
    redisContext *c = thread_ctx(rl);
    if (!c)
        return -1;
    long long t = (long long)l->interval_us, b = (long long)l->burst;
    redisReply *r = redisCommand(c, "EVALSHA %s 1 %s %lld %lld", rl->sha, key, t, b);
    if (r && r->type == REDIS_REPLY_ERROR && strncmp(r->str, "NOSCRIPT", 8) == 0) {
        freeReplyObject(r);
        r = redisCommand(c, "EVAL %s 1 %s %lld %lld", GCRA_SCRIPT, key, t, b);
    }
    if (!r) { /* I/O error or timeout: the connection is unusable */
        thread_ctx_broken(rl);
        return -1;
    }
    int rc = script_reply(r, allowed, retry_ms);
    if (rc < 0)
        LOG_DEBUG("unexpected rate-limit reply", "error",
                  r->type == REDIS_REPLY_ERROR ? r->str : "not {allowed, retry}");
    freeReplyObject(r);
    return rc;
}

/* FNV-1a of the key text, never 0 (0 marks a free slot). */
static uint64_t key_hash(const char *key)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    return h ? h : 1;
}

/* How much taking over slot 's' would cost: nothing when free or full again (its TAT is
 * past), else its TAT (the sooner full again, the less is forgotten). */
static int64_t takeover_cost(const struct slot *s, int64_t now)
{
    return !s->key ? INT64_MIN : s->tat_us <= now ? INT64_MIN + 1 : s->tat_us;
}

/* The slot of 'h': its own, else the cheapest of its neighbourhood to take over. */
static struct slot *find_slot(struct ratelimit *rl, uint64_t h, int64_t now)
{
    struct slot *spare = NULL;
    for (int j = 0; j < RATELIMIT_PROBE; j++) {
        struct slot *s = &rl->table[(h + (uint64_t)j) % RATELIMIT_SLOTS];
        if (s->key == h)
            return s;
        if (!spare || takeover_cost(s, now) < takeover_cost(spare, now))
            spare = s;
    }
    spare->key = h;
    spare->tat_us = 0;
    return spare;
}

/* Warn (at most every RATELIMIT_WARN_MS) that limits are enforced in process. */
static void warn_fallback(struct ratelimit *rl)
{
    metrics_add(&m_fallback, 1);
    long n = atomic_fetch_add(&rl->unwarned, 1) + 1;
    int64_t now = clock_now_ms(), next = atomic_load(&rl->next_warn_ms);
    if (now < next || !atomic_compare_exchange_strong(&rl->next_warn_ms, &next,
                                                      now + RATELIMIT_WARN_MS))
        return;
    atomic_fetch_sub(&rl->unwarned, n);
    char count[24], share[16];
    snprintf(count, sizeof(count), "%ld", n);
    snprintf(share, sizeof(share), "%d", rl->frontends);
    LOG_WARN(rl->port ? "rate limits enforced in process: Redis unreachable"
                      : "rate limits enforced in process: no Redis configured",
             "decisions", count, "limits_divided_by", share);
}

/* Charge the bucket in the fallback table. */
static bool take_local(struct ratelimit *rl, const char *key, const struct gcra_limit *l,
                       int64_t *retry_ms)
{
    warn_fallback(rl);
    int64_t now = now_us();
    pthread_mutex_lock(&rl->mu);
    struct slot *s = find_slot(rl, key_hash(key), now);
    bool ok = gcra_take(l, now, &s->tat_us, retry_ms);
    pthread_mutex_unlock(&rl->mu);
    return ok;
}

/*
 * Charge one request of 'principal' to 'budget' under the rate and burst
 * 'lim' gives it (a rate of 0: no limit, nothing is charged).  Returns true
 * when allowed; false when limited, with *retry_after_ms (at least 1) until
 * one request would pass.  In Redis when reachable, else in process with the
 * limits divided by the number of frontends; *where (may be NULL) says
 * which.  Runs on any thread (each has its own Redis connection).
 */
bool ratelimit_take(struct ratelimit *rl, const char *principal, enum quota_budget budget,
                    const struct quota_set *lim, int64_t *retry_after_ms,
                    enum ratelimit_where *where)
{
    *retry_after_ms = 0;
    if (where)
        *where = RATELIMIT_REDIS;
    if (lim->per_s[budget] <= 0)
        return true;
    char key[320];
    snprintf(key, sizeof(key), "tw:rl:{%s}:%s", principal, quota_budget_name(budget));
    struct gcra_limit shared = gcra_limit_of(lim->per_s[budget], lim->burst[budget], 1);
    bool allowed = false;
    if (rl->port && take_redis(rl, key, &shared, &allowed, retry_after_ms) == 0)
        return allowed;
    if (where)
        *where = RATELIMIT_FALLBACK;
    struct gcra_limit mine = gcra_limit_of(lim->per_s[budget], lim->burst[budget], rl->frontends);
    return take_local(rl, key, &mine, retry_after_ms);
}
