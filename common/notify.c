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
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "clock.h"
#include "log.h"
#include "metrics.h"

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

/*
 * Split a Redis address "host:port" into 'host' (room for 'cap' bytes) and
 * *port.  Returns 0 or -NOTIFY_EINVALID (NULL, no colon, an empty or too long
 * host, a port outside 1-65535).  Pure; thread-safe.
 */
int notify_split_addr(const char *addr, char *host, size_t cap, int *port)
{
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    if (!colon || colon == addr || (size_t)(colon - addr) >= cap)
        return -NOTIFY_EINVALID;
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (*end || p <= 0 || p > 65535)
        return -NOTIFY_EINVALID;
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    *port = (int)p;
    return 0;
}

/* Credentials every connection presents (notify_set_auth); empty password = none. */
static char auth_user[128], auth_password[512];

/*
 * Remember the Redis ACL user (may be NULL or "" for the default user) and
 * password (NULL or "" = none) every connection of this process sends with
 * AUTH, and warn once when Redis at 'addr' is used without a password.  Call
 * from main() before any publisher or subscriber exists.
 * Returns 0, or -NOTIFY_EINVALID when either is too long.
 */
int notify_set_auth(const char *addr, const char *user, const char *password)
{
    if ((user && strlen(user) >= sizeof(auth_user)) ||
        (password && strlen(password) >= sizeof(auth_password)))
        return -NOTIFY_EINVALID;
    snprintf(auth_user, sizeof(auth_user), "%s", user ? user : "");
    snprintf(auth_password, sizeof(auth_password), "%s", password ? password : "");
    if (addr && *addr && !auth_password[0])
        LOG_WARN("Redis is used WITHOUT a password (TASKWIRE_REDIS_INSECURE=true): anyone who "
                 "reaches it can publish events; use only for local development");
    return 0;
}

/*
 * Secure by default: Redis reachable at 'addr' must be protected by a
 * password unless the operator said 'insecure' (local development).  Pure.
 */
int notify_check_auth(const char *addr, const char *password, bool insecure, struct err *err)
{
    if (password && strlen(password) >= sizeof(auth_password))
        return err_set(err, -NOTIFY_EINVALID, "TASKWIRE_REDIS_PASSWORD is longer than %zu bytes",
                       sizeof(auth_password) - 1);
    if (!addr || !*addr || insecure || (password && *password))
        return 0;
    return err_set(err, -NOTIFY_EINVALID,
                   "Redis needs TASKWIRE_REDIS_PASSWORD (or _FILE), or TASKWIRE_REDIS_INSECURE=true "
                   "for local development");
}

/* Send AUTH when a password is set; true when none is needed or Redis said OK. */
static bool authenticate(redisContext *c)
{
    static atomic_bool warned;
    if (!auth_password[0])
        return true;
    redisReply *r = auth_user[0] ? redisCommand(c, "AUTH %s %s", auth_user, auth_password)
                                 : redisCommand(c, "AUTH %s", auth_password);
    bool ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0;
    if (!ok && !atomic_exchange(&warned, true))
        LOG_ERROR("redis refused the credentials (TASKWIRE_REDIS_USER / TASKWIRE_REDIS_PASSWORD)",
                  "reply", r && r->type == REDIS_REPLY_ERROR ? r->str : "none");
    if (r)
        freeReplyObject(r);
    return ok;
}

/*
 * Connect to Redis at host:port within connect_ms, set the command timeout
 * to command_ms and authenticate (notify_set_auth()).  Returns the
 * connection, or NULL when Redis is unreachable or refused the credentials.
 */
redisContext *notify_redis_connect(const char *host, int port, int connect_ms, int command_ms)
{
    struct timeval tv = {connect_ms / 1000, (connect_ms % 1000) * 1000};
    redisContext *c = redisConnectWithTimeout(host, port, tv);
    if (!c || c->err) {
        if (c)
            redisFree(c);
        return NULL;
    }
    struct timeval cmd = {command_ms / 1000, (command_ms % 1000) * 1000};
    redisSetTimeout(c, cmd);
    if (!authenticate(c)) {
        redisFree(c);
        return NULL;
    }
    return c;
}

METRIC_DEFINE(m_redis_ok, METRIC_COUNTER, "taskwire_redis_connects_total", "result=\"ok\"",
              "Connections to Redis opened for wake-ups (more than one each: reconnects)");
METRIC_DEFINE(m_redis_err, METRIC_COUNTER, "taskwire_redis_connects_total", "result=\"error\"",
              "Connections to Redis opened for wake-ups (more than one each: reconnects)");
METRIC_DEFINE(m_redis_lost, METRIC_COUNTER, "taskwire_redis_errors_total", NULL,
              "Redis commands of the wake-up channel that failed (connection dropped)");

/* Register the Redis connection counters.  Call once, at start-up. */
void notify_metrics_register(void)
{
    metrics_register(&m_redis_ok);
    metrics_register(&m_redis_err);
    metrics_register(&m_redis_lost);
}

static redisContext *connect_redis(const char *host, int port)
{
    redisContext *c = notify_redis_connect(host, port, NOTIFY_TIMEOUT_MS, NOTIFY_TIMEOUT_MS);
    metrics_add(c ? &m_redis_ok : &m_redis_err, 1);
    return c;
}

/*
 * A publisher for Redis at 'addr' ("host:port"); NULL, "" or a malformed
 * address gives a disabled publisher whose publishes fail at once.  Does not
 * connect yet.  Returns NULL only when out of memory.  Borrows 'addr'.
 */
struct notify_pub *notify_pub_new(const char *addr)
{
    struct notify_pub *p = calloc(1, sizeof(*p));
    if (p && notify_split_addr(addr, p->host, sizeof(p->host), &p->port) < 0)
        p->port = 0; /* disabled */
    return p;
}

/* Close the publisher's connection and free it; NULL is a no-op. */
void notify_pub_free(struct notify_pub *p)
{
    if (!p)
        return;
    if (p->ctx)
        redisFree(p->ctx);
    free(p);
}

/*
 * Publish one event.  Best effort: when publishing is disabled or Redis is
 * unreachable this returns -NOTIFY_EUNAVAILABLE at once (no reconnect
 * attempt more often than once a second), and the receiver's next heartbeat
 * or read is the fallback.  Borrows the strings.  Not thread-safe per
 * publisher.
 */
int notify_publish(struct notify_pub *p, const char *kind, const char *task_id)
{
    if (!p || !p->port)
        return -NOTIFY_EUNAVAILABLE;
    char msg[128];
    snprintf(msg, sizeof(msg), "%s %s", kind, task_id);
    /* Two tries: a connection cached from before a Redis restart fails once,
     * and the event must still go out on a fresh one. */
    for (int attempt = 0; attempt < 2; attempt++) {
        int64_t now = clock_now_ms();
        if (!p->ctx) {
            if (now < p->next_try_ms)
                return -NOTIFY_EUNAVAILABLE;
            p->ctx = connect_redis(p->host, p->port);
            if (!p->ctx) {
                p->next_try_ms = now + NOTIFY_RETRY_MS;
                return -NOTIFY_EUNAVAILABLE;
            }
        }
        redisReply *r = redisCommand(p->ctx, "PUBLISH %s %s", NOTIFY_CHANNEL, msg);
        if (r) {
            int rc = r->type == REDIS_REPLY_INTEGER ? 0 : -NOTIFY_EUNAVAILABLE;
            freeReplyObject(r);
            return rc;
        }
        metrics_add(&m_redis_lost, 1);
        redisFree(p->ctx);
        p->ctx = NULL;
    }
    return -NOTIFY_EUNAVAILABLE;
}

/*
 * Parse an event payload: exactly "<kind> <task id>", one space, a kind that
 * travels on the wire (cancel, changed, tools, prompts) and a canonical task id;
 * nothing before, between or after.  Returns 0 with out->kind pointing at
 * the static kind name, or -NOTIFY_EINVALID with *out zeroed.  Reads only
 * payload[0..len).  No I/O, no allocation; thread-safe.
 */
int notify_parse(const char *payload, size_t len, struct notify_event *out)
{
    static const char *const wire_kinds[] = {NOTIFY_CANCEL, NOTIFY_CHANGED, NOTIFY_TOOLS,
                                             NOTIFY_PROMPTS};
    const char *space = payload ? memchr(payload, ' ', len) : NULL;

    memset(out, 0, sizeof(*out));
    if (!space || len - (size_t)(space - payload) - 1 != TASKID_LEN)
        return -NOTIFY_EINVALID;
    memcpy(out->task_id, space + 1, TASKID_LEN);
    out->task_id[TASKID_LEN] = '\0';
    for (size_t i = 0; i < sizeof(wire_kinds) / sizeof(wire_kinds[0]); i++) {
        size_t n = strlen(wire_kinds[i]);
        if ((size_t)(space - payload) == n && memcmp(payload, wire_kinds[i], n) == 0 &&
            taskid_valid(out->task_id)) {
            out->kind = wire_kinds[i];
            return 0;
        }
    }
    memset(out, 0, sizeof(*out));
    return -NOTIFY_EINVALID;
}

/*
 * Read one reply of the subscription as an event: a pub/sub message
 * ["message", channel, "kind id"] whose payload notify_parse() accepts.
 * Returns 0 with *ev set, or -NOTIFY_EINVALID (anything else: replies to
 * PING, other shapes, bad payloads).  No I/O; thread-safe.
 */
int notify_reply_event(const struct redisReply *r, struct notify_event *ev)
{
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
        r->element[0]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "message") != 0 ||
        r->element[2]->type != REDIS_REPLY_STRING)
        return -NOTIFY_EINVALID;
    return notify_parse(r->element[2]->str, r->element[2]->len, ev);
}

/* Deliver one pub/sub reply: ["message", channel, "kind id"]. */
static void deliver(struct notify_sub *s, const redisReply *r)
{
    struct notify_event ev;
    if (notify_reply_event(r, &ev) == 0)
        s->cb(s->arg, ev.kind, ev.task_id);
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
    if (notify_split_addr(addr, s->host, sizeof(s->host), &s->port) < 0) {
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

/*
 * Ask the subscriber thread to stop, wait for it (within about a second:
 * it polls with a one-second timeout) and free it.  NULL is a no-op.
 */
void notify_sub_stop(struct notify_sub *s)
{
    if (!s)
        return;
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    free(s);
}

/* True while the subscription is established; false for NULL.  Thread-safe. */
bool notify_sub_connected(const struct notify_sub *s)
{
    return s && atomic_load(&s->connected);
}
