/*
 * reaper.c - the connection registry, its deadlines and the ticker that enforces them.
 *
 * A doubly linked list under one mutex: tracking, phase changes and
 * forgetting are O(1); a sweep walks every connection (at most
 * max-connections) a few times a second.  A reaped connection stays tracked
 * until libmicrohttpd closes it (it is shut down once, not again).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "reaper.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "clock.h"
#include "overload.h"

struct reaper_conn {
    struct reaper_conn *prev, *next; /* the registry list */
    int fd;                          /* its socket */
    enum reaper_phase phase;         /* where it is */
    int64_t deadline_ms;             /* shut down at or after this (monotonic); 0 = never */
    bool reaped;                     /* shut down already */
};

struct reaper {
    struct reaper_cfg cfg;     /* deadlines */
    reaper_shut_fn *shut;      /* shuts a socket down */
    pthread_mutex_t mu;        /* guards the list and every entry */
    struct reaper_conn *head;  /* tracked connections */
    pthread_t ticker;          /* sweeps every REAPER_TICK_MS */
    bool has_ticker;           /* 'ticker' was started */
    atomic_bool stop;          /* tells the ticker to end */
};

static void shut_socket(int fd)
{
    shutdown(fd, SHUT_RDWR);
}

/*
 * The deadline of a connection entering phase 'p' at now_ms: headers within
 * header_ms, a body within body_ms, the next request's headers within
 * idle_ms + header_ms after a response; none while the application has the
 * request.  A limit of 0 means no deadline for that phase.  Pure.
 */
int64_t reaper_deadline(const struct reaper_cfg *cfg, enum reaper_phase p, int64_t now_ms)
{
    switch (p) {
    case REAPER_HEADERS:
        return cfg->header_ms > 0 ? now_ms + cfg->header_ms : 0;
    case REAPER_BODY:
        return cfg->body_ms > 0 ? now_ms + cfg->body_ms : 0;
    case REAPER_IDLE:
        return cfg->header_ms > 0 ? now_ms + cfg->idle_ms + cfg->header_ms : 0;
    case REAPER_BUSY:
    default:
        return 0;
    }
}

static void *ticker_main(void *arg)
{
    struct reaper *r = arg;
    while (!atomic_load(&r->stop)) {
        clock_sleep_ms(REAPER_TICK_MS);
        reaper_sweep(r, clock_now_ms());
    }
    return NULL;
}

/*
 * A reaper with the deadlines of 'cfg' (copied), shutting sockets down with
 * 'shut' (NULL: shutdown(fd, SHUT_RDWR)), and, when 'ticker', a thread
 * sweeping every REAPER_TICK_MS.  Returns a new reaper (reaper_free() it) or
 * NULL when out of resources.
 */
struct reaper *reaper_new(const struct reaper_cfg *cfg, reaper_shut_fn *shut, bool ticker)
{
    struct reaper *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->cfg = *cfg;
    r->shut = shut ? shut : shut_socket;
    pthread_mutex_init(&r->mu, NULL);
    overload_metrics_register();
    if (ticker) {
        if (pthread_create(&r->ticker, NULL, ticker_main, r) != 0) {
            pthread_mutex_destroy(&r->mu);
            free(r);
            return NULL;
        }
        r->has_ticker = true;
    }
    return r;
}

/* Stop the ticker and free the reaper (and any entry left); NULL is a no-op. */
void reaper_free(struct reaper *r)
{
    if (!r)
        return;
    atomic_store(&r->stop, true);
    if (r->has_ticker)
        pthread_join(r->ticker, NULL);
    for (struct reaper_conn *c = r->head, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    pthread_mutex_destroy(&r->mu);
    free(r);
}

/* Start tracking socket 'fd', connected at now_ms, with its header deadline.  Thread-safe. */
struct reaper_conn *reaper_track(struct reaper *r, int fd, int64_t now_ms)
{
    struct reaper_conn *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->fd = fd;
    c->phase = REAPER_HEADERS;
    c->deadline_ms = reaper_deadline(&r->cfg, REAPER_HEADERS, now_ms);
    pthread_mutex_lock(&r->mu);
    c->next = r->head;
    if (r->head)
        r->head->prev = c;
    r->head = c;
    pthread_mutex_unlock(&r->mu);
    return c;
}

/* Move 'c' to phase 'p' entered at now_ms, with that phase's deadline.  Thread-safe. */
void reaper_set_phase(struct reaper *r, struct reaper_conn *c, enum reaper_phase p,
                      int64_t now_ms)
{
    pthread_mutex_lock(&r->mu);
    if (c->phase != p) {
        c->phase = p;
        c->deadline_ms = reaper_deadline(&r->cfg, p, now_ms);
    }
    pthread_mutex_unlock(&r->mu);
}

/* Stop tracking 'c' and free it; call before its socket is closed.  Thread-safe. */
void reaper_forget(struct reaper *r, struct reaper_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&r->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        r->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&r->mu);
    free(c);
}

/*
 * Shut down every tracked connection whose deadline passed at now_ms and
 * was not shut down before, counting each by the deadline it missed (the
 * headers, a kept-alive connection's next headers included, or the body).
 * Returns how many.  The sockets are touched under the mutex, so none of
 * them can have been closed meanwhile.  Thread-safe.
 */
int reaper_sweep(struct reaper *r, int64_t now_ms)
{
    int n = 0;
    pthread_mutex_lock(&r->mu);
    for (struct reaper_conn *c = r->head; c; c = c->next) {
        if (c->reaped || !c->deadline_ms || now_ms < c->deadline_ms)
            continue;
        c->reaped = true;
        r->shut(c->fd);
        overload_note(c->phase == REAPER_BODY ? OVERLOAD_REAP_BODY : OVERLOAD_REAP_HEADERS);
        n++;
    }
    pthread_mutex_unlock(&r->mu);
    return n;
}

/*
 * libmicrohttpd's NOTIFY_CONNECTION callback, 'cls' the reaper: a started
 * connection is tracked (its entry kept in *socket_context), a closed one
 * forgotten.  libmicrohttpd calls it for a close before it closes the socket.
 */
void reaper_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                   enum MHD_ConnectionNotificationCode code)
{
    struct reaper *r = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? reaper_track(r, ci->connect_fd, clock_now_ms()) : NULL;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        reaper_forget(r, *socket_context);
        *socket_context = NULL;
    }
}

/* Move the connection of a request in progress to phase 'p' now.  NULL reaper: no-op. */
void reaper_mark(struct reaper *r, struct MHD_Connection *conn, enum reaper_phase p)
{
    if (!r)
        return;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (ci && ci->socket_context)
        reaper_set_phase(r, ci->socket_context, p, clock_now_ms());
}
