/*
 * hub.c - suspended HTTP requests waiting for task changes.
 *
 * Suspend and resume both happen under the hub's mutex, so an event can
 * never slip in between "nothing to do" and the suspend: it either sets a
 * flag the handler sees before suspending, or finds the connection suspended
 * and resumes it.  The ticker also notices clients that hung up (POLLRDHUP on
 * the socket), which MHD cannot see while a connection is suspended.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#define _GNU_SOURCE /* POLLRDHUP */
#include "hub.h"

#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "notify.h"

#define HUB_TICKER_MS 200

struct hub {
    pthread_mutex_t mu;        /* guards the list and every waiter's flags */
    struct hub_conn_ops ops;   /* what suspends, resumes and reads a connection */
    pthread_cond_t empty_cv;   /* signalled when a waiter leaves */
    struct hub_waiter *head;   /* registered waiters */
    int count;                 /* registered waiters */
    int suspended;             /* waiters whose connection is suspended now */
    bool closing;              /* hub_shutdown began: nothing may suspend any more */
    struct notify_sub *events; /* Redis subscriber, or NULL */
    pthread_t ticker;          /* tick thread */
    atomic_bool stop;          /* stop the ticker */
};

/* ---- connections: libmicrohttpd unless the caller gave other ops ---- */

static void default_suspend(struct MHD_Connection *conn)
{
    MHD_suspend_connection(conn);
}

static void default_resume(struct MHD_Connection *conn)
{
    MHD_resume_connection(conn);
}

static int default_fd(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    return ci ? ci->connect_fd : -1;
}

static const struct hub_conn_ops default_ops = {default_suspend, default_resume, default_fd};

/* Set 'flags' on 'w' and resume it if suspended; caller holds the mutex. */
static void wake(struct hub *h, struct hub_waiter *w, unsigned flags)
{
    w->flags |= flags;
    if (w->suspended) {
        w->suspended = false;
        h->suspended--;
        h->ops.resume(w->conn);
    }
}

/* True when the peer of w's connection hung up (MHD cannot see it while suspended). */
static bool hung_up(const struct hub *h, const struct hub_waiter *w)
{
    int fd = h->ops.fd(w->conn);
    if (fd < 0)
        return false;
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};
    return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/* ---- the ticker and events ---- */

static void *ticker_main(void *arg)
{
    struct hub *h = arg;
    while (!atomic_load(&h->stop)) {
        clock_sleep_ms(HUB_TICKER_MS);
        int64_t now = clock_now_ms();
        pthread_mutex_lock(&h->mu);
        for (struct hub_waiter *w = h->head; w; w = w->next) {
            unsigned flags = 0;
            if (now >= w->next_tick_ms) {
                flags |= HUB_TICK;
                w->next_tick_ms = now + w->tick_ms;
            }
            if (w->suspended && hung_up(h, w))
                flags |= HUB_GONE;
            if (flags)
                wake(h, w, flags);
        }
        pthread_mutex_unlock(&h->mu);
    }
    return NULL;
}

/*
 * Mark 'key' changed on every waiter watching it and resume those that are
 * suspended.  Called by the Redis subscriber; also usable for local changes.
 */
void hub_event(struct hub *h, const char *key)
{
    pthread_mutex_lock(&h->mu);
    for (struct hub_waiter *w = h->head; w; w = w->next)
        for (int i = 0; i < w->nkeys; i++)
            if (strcmp(w->keys[i], key) == 0) {
                w->changed |= (uint64_t)1 << i;
                wake(h, w, HUB_CHANGED);
            }
    pthread_mutex_unlock(&h->mu);
}

/* Every key of every waiter may have changed (events were missed). */
static void wake_all(struct hub *h)
{
    pthread_mutex_lock(&h->mu);
    for (struct hub_waiter *w = h->head; w; w = w->next) {
        w->changed = w->nkeys >= 64 ? ~(uint64_t)0 : ((uint64_t)1 << w->nkeys) - 1;
        wake(h, w, HUB_CHANGED);
    }
    pthread_mutex_unlock(&h->mu);
}

static void on_event(void *arg, const char *kind, const char *key)
{
    if (strcmp(kind, NOTIFY_RESYNC) == 0)
        wake_all(arg);
    else if (strcmp(kind, NOTIFY_TOOLS) == 0)
        hub_event(arg, HUB_TOOLS_KEY);
    else if (strcmp(kind, NOTIFY_PROMPTS) == 0)
        hub_event(arg, HUB_PROMPTS_KEY);
    else
        hub_event(arg, key);
}

/* ---- life cycle ---- */

/*
 * Start the hub.  With an empty 'redis_addr' there are no events and every
 * tick counts as a possible change.  'ops' (borrowed; copied) acts on
 * connections, NULL for libmicrohttpd.  Returns a new hub (free with
 * hub_free) or NULL when out of resources.
 */
struct hub *hub_new(const char *redis_addr, const struct hub_conn_ops *ops)
{
    struct hub *h = calloc(1, sizeof(*h));
    if (!h)
        return NULL;
    h->ops = ops ? *ops : default_ops;
    pthread_mutex_init(&h->mu, NULL);
    clock_cond_init(&h->empty_cv);
    if (pthread_create(&h->ticker, NULL, ticker_main, h) != 0) {
        pthread_mutex_destroy(&h->mu);
        free(h);
        return NULL;
    }
    if (redis_addr && *redis_addr)
        h->events = notify_sub_start(redis_addr, on_event, h);
    return h;
}

/*
 * Wake every waiter with HUB_SHUTDOWN (they answer and leave), then wait up
 * to 'grace_ms' for the list to empty, and in any case until no connection
 * is suspended.  From here on no waiter can suspend again: one that arrives
 * later (a keep-alive connection delivering one more request) finds
 * HUB_SHUTDOWN set at once.
 */
void hub_shutdown(struct hub *h, int64_t grace_ms)
{
    if (!h)
        return;
    int64_t until = clock_now_ms() + grace_ms;
    pthread_mutex_lock(&h->mu);
    h->closing = true;
    /* Wait for the waiters to answer and leave; past the grace period, at least
     * for no connection to be suspended (MHD must not stop with one). */
    while ((h->count > 0 && clock_now_ms() < until) || h->suspended > 0) {
        for (struct hub_waiter *w = h->head; w; w = w->next)
            wake(h, w, HUB_SHUTDOWN);
        struct timespec ts = clock_deadline_in(50);
        pthread_cond_timedwait(&h->empty_cv, &h->mu, &ts);
    }
    pthread_mutex_unlock(&h->mu);
}

/*
 * Stop the subscriber and the ticker, then free the hub.  No waiter may be
 * registered any more (run hub_shutdown first).  NULL is a no-op.
 */
void hub_free(struct hub *h)
{
    if (!h)
        return;
    notify_sub_stop(h->events);
    atomic_store(&h->stop, true);
    pthread_join(h->ticker, NULL);
    pthread_cond_destroy(&h->empty_cv);
    pthread_mutex_destroy(&h->mu);
    free(h);
}

/*
 * Register 'w' (borrowed until hub_remove; its conn, keys and tick_ms set by
 * the caller) with no pending flags, or HUB_SHUTDOWN when the hub is closing.
 */
void hub_add(struct hub *h, struct hub_waiter *w)
{
    pthread_mutex_lock(&h->mu);
    w->flags = h->closing ? HUB_SHUTDOWN : 0;
    w->changed = 0;
    w->suspended = false;
    w->next_tick_ms = clock_now_ms() + w->tick_ms;
    w->prev = NULL;
    w->next = h->head;
    if (h->head)
        h->head->prev = w;
    h->head = w;
    h->count++;
    pthread_mutex_unlock(&h->mu);
}

/*
 * Unregister 'w' and tell hub_shutdown one waiter fewer is left.  'w' must
 * not be suspended (MHD calls the completion callback only for live
 * connections).
 */
void hub_remove(struct hub *h, struct hub_waiter *w)
{
    pthread_mutex_lock(&h->mu);
    if (w->prev)
        w->prev->next = w->next;
    else
        h->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
    h->count--;
    pthread_cond_broadcast(&h->empty_cv);
    pthread_mutex_unlock(&h->mu);
}

/*
 * Suspend w's connection unless flags are pending (or the hub is closing,
 * which sets HUB_SHUTDOWN).  Returns true when suspended: the caller returns
 * to MHD and runs again once the hub resumes the connection.  Checking and
 * suspending under the one mutex is what makes a wake-up impossible to miss.
 */
bool hub_suspend(struct hub *h, struct hub_waiter *w)
{
    pthread_mutex_lock(&h->mu);
    if (h->closing)
        w->flags |= HUB_SHUTDOWN;
    bool suspend = w->flags == 0;
    if (suspend) {
        w->suspended = true;
        h->suspended++;
        h->ops.suspend(w->conn);
    }
    pthread_mutex_unlock(&h->mu);
    return suspend;
}

/*
 * Return and clear w's pending HUB_* flags; *changed (when not NULL) gets the
 * bits of the keys that had events since the last take.
 */
unsigned hub_take(struct hub *h, struct hub_waiter *w, uint64_t *changed)
{
    pthread_mutex_lock(&h->mu);
    unsigned flags = w->flags;
    if (changed)
        *changed = w->changed;
    w->flags = 0;
    w->changed = 0;
    pthread_mutex_unlock(&h->mu);
    return flags;
}

/* True while the Redis subscription is up (events arrive); false without Redis. */
bool hub_live(const struct hub *h)
{
    return notify_sub_connected(h->events);
}

/* The number of registered waiters now. */
int hub_count(struct hub *h)
{
    pthread_mutex_lock(&h->mu);
    int n = h->count;
    pthread_mutex_unlock(&h->mu);
    return n;
}
