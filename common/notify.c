/*
 * notify.c - Redis pub/sub for task events, with hiredis 0.14 (sync API).
 *
 * The subscriber polls its socket with a one-second timeout so it can notice
 * a stop request, and reconnects by itself after Redis restarts.  Publishers
 * use short timeouts: a slow Redis must never slow a request down much.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "notify.h"

#include <hiredis/hiredis.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "clock.h"
#include "log.h"

#define NOTIFY_TIMEOUT_MS 200
#define NOTIFY_RETRY_MS 1000
#define NOTIFY_PING_MS 5000

struct notify_pub {
    redisContext *ctx;   /* NULL until connected */
    char host[256];      /* Redis host */
    int port;            /* Redis port */
    int64_t next_try_ms;  /* no reconnect before this (monotonic ms) */
};

struct notify_sub {
    pthread_t thread;    /* the subscriber */
    atomic_bool stop;    /* set by notify_sub_stop */
    atomic_bool connected; /* subscription established */
    char host[256];      /* Redis host */
    int port;            /* Redis port */
    notify_cb *cb;       /* event callback */
    void *arg;           /* its argument */
};

/* Split "host:port"; returns 0 or -1. */
static int split_addr(const char *addr, char *host, size_t cap, int *port)
{
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    if (!colon || colon == addr || (size_t)(colon - addr) >= cap)
        return -1;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p <= 0 || p > 65535)
        return -1;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    *port = (int)p;
    return 0;
}

static redisContext *connect_redis(const char *host, int port)
{
    struct timeval tv = {0, NOTIFY_TIMEOUT_MS * 1000};
    redisContext *c = redisConnectWithTimeout(host, port, tv);
    if (!c || c->err) {
        if (c)
            redisFree(c);
        return NULL;
    }
    redisSetTimeout(c, tv);
    return c;
}

struct notify_pub *notify_pub_new(const char *addr)
{
    struct notify_pub *p = calloc(1, sizeof(*p));
    if (p && split_addr(addr, p->host, sizeof(p->host), &p->port) < 0)
        p->port = 0; /* disabled */
    return p;
}

void notify_pub_free(struct notify_pub *p)
{
    if (!p)
        return;
    if (p->ctx)
        redisFree(p->ctx);
    free(p);
}

/*
 * Publish one event.  Best effort: when Redis is unreachable this returns -1
 * at once (no reconnect attempt more often than once a second), and the
 * receiver's next heartbeat is the fallback.  Not thread-safe per publisher.
 */
int notify_publish(struct notify_pub *p, const char *kind, const char *task_id)
{
    if (!p || !p->port)
        return -1;
    char msg[128];
    snprintf(msg, sizeof(msg), "%s %s", kind, task_id);
    /* Two tries: a connection cached from before a Redis restart fails once,
     * and the event must still go out on a fresh one. */
    for (int attempt = 0; attempt < 2; attempt++) {
        int64_t now = clock_now_ms();
        if (!p->ctx) {
            if (now < p->next_try_ms)
                return -1;
            p->ctx = connect_redis(p->host, p->port);
            if (!p->ctx) {
                p->next_try_ms = now + NOTIFY_RETRY_MS;
                return -1;
            }
        }
        redisReply *r = redisCommand(p->ctx, "PUBLISH %s %s", NOTIFY_CHANNEL, msg);
        if (r) {
            int rc = r->type == REDIS_REPLY_INTEGER ? 0 : -1;
            freeReplyObject(r);
            return rc;
        }
        redisFree(p->ctx);
        p->ctx = NULL;
    }
    return -1;
}

/* Deliver one pub/sub reply: ["message", channel, "kind id"]. */
static void deliver(struct notify_sub *s, const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "message") != 0 ||
        r->element[2]->type != REDIS_REPLY_STRING)
        return;
    char kind[16], id[64];
    if (sscanf(r->element[2]->str, "%15s %63s", kind, id) == 2)
        s->cb(s->arg, kind, id);
}

/* Read and deliver until the connection breaks or a stop is requested. */
static void listen_until_broken(struct notify_sub *s, redisContext *c)
{
    redisReply *r = redisCommand(c, "SUBSCRIBE %s", NOTIFY_CHANNEL);
    if (!r)
        return;
    freeReplyObject(r);
    redisEnableKeepAlive(c);
    atomic_store(&s->connected, true);
    LOG_INFO("subscribed to task events", "redis", s->host);
    s->cb(s->arg, NOTIFY_RESYNC, "");
    /* A PING every few seconds; silence for longer than three of them means a
     * half-open connection, which is then dropped and made again. */
    int64_t last_rx = clock_now_ms(), next_ping = last_rx + NOTIFY_PING_MS;
    while (!atomic_load(&s->stop)) {
        void *reply = NULL;
        if (redisGetReplyFromReader(c, &reply) != REDIS_OK)
            break;
        if (reply) {
            last_rx = clock_now_ms();
            deliver(s, reply);
            freeReplyObject(reply);
            continue;
        }
        int64_t now = clock_now_ms();
        if (now - last_rx > 3 * NOTIFY_PING_MS) {
            LOG_WARN("redis subscription silent; reconnecting", "redis", s->host);
            break;
        }
        if (now >= next_ping) {
            int done = 0;
            if (redisAppendCommand(c, "PING") != REDIS_OK)
                break;
            while (!done)
                if (redisBufferWrite(c, &done) != REDIS_OK)
                    goto out_broken;
            next_ping = now + NOTIFY_PING_MS;
        }
        struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
        int n = poll(&pfd, 1, 1000);
        if (n < 0 || (n > 0 && redisBufferRead(c) != REDIS_OK))
            break;
    }
out_broken:
    atomic_store(&s->connected, false);
}

static void *sub_main(void *arg)
{
    struct notify_sub *s = arg;
    bool warned = false;
    while (!atomic_load(&s->stop)) {
        redisContext *c = connect_redis(s->host, s->port);
        if (c) {
            /* Blocking reads from here on; poll() provides the timeout. */
            struct timeval none = {0, 0};
            redisSetTimeout(c, none);
            listen_until_broken(s, c);
            redisFree(c);
            warned = false;
        } else if (!warned) {
            LOG_WARN("redis unreachable; task events fall back to heartbeats", "redis", s->host);
            warned = true;
        }
        for (int i = 0; i < 10 && !atomic_load(&s->stop); i++)
            clock_sleep_ms(NOTIFY_RETRY_MS / 10);
    }
    return NULL;
}

/*
 * Start the subscriber thread.  'cb' runs on that thread and must be quick
 * and thread-safe.  Returns NULL when 'addr' is empty or invalid, or the
 * thread cannot start.
 */
struct notify_sub *notify_sub_start(const char *addr, notify_cb *cb, void *arg)
{
    struct notify_sub *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    if (split_addr(addr, s->host, sizeof(s->host), &s->port) < 0) {
        free(s);
        return NULL;
    }
    s->cb = cb;
    s->arg = arg;
    if (pthread_create(&s->thread, NULL, sub_main, s) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

void notify_sub_stop(struct notify_sub *s)
{
    if (!s)
        return;
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    free(s);
}

bool notify_sub_connected(const struct notify_sub *s)
{
    return s && atomic_load(&s->connected);
}
