/*
 * twload_run.c - twload's engine: per thread one epoll loop over its share of non-blocking
 * keep-alive connections (TCP_NODELAY), one request in flight on each.
 *
 * Every connection holds at most one timer in its thread's binary heap: the answer's or the
 * connect's deadline while it waits, its next send while idle (open-loop schedule, poll or
 * cancel delay), its reopening while down.  Requests are built from the targets' templates
 * into the connection's own buffer and answers are framed in its own buffer: nothing is
 * allocated per request (the list of created tasks grows by doubling).  Times are
 * CLOCK_MONOTONIC except the acknowledgement stamps, which are CLOCK_REALTIME so they can be
 * compared with the workers' (same machine) clocks.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "twload_run.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#define IN_FIRST_CAP  8192                /* first size of a connection's answer buffer */
#define IN_MAX        (64u * 1024 * 1024) /* an answer larger than this is an error */
#define LATE_SLACK_US 1000                /* an open-loop send later than this is "late" */
#define WAKE_MAX_US   100000              /* the loop looks at the clock and Ctrl-C this often */
#define MAX_EVENTS    64

atomic_bool twload_stop;

enum phase {
    PH_RUN,   /* sending, until the end of the measured window */
    PH_DRAIN, /* dispatch: waiting for creates in flight; cancel: sending the last cancels */
    PH_FETCH, /* dispatch: tasks/get of every counted task until it is completed */
    PH_DONE,  /* the thread's loop ends */
};

enum conn_state {
    CS_DOWN,       /* no socket; the timer reopens it */
    CS_CONNECTING, /* non-blocking connect under way */
    CS_IDLE,       /* connected, nothing in flight */
    CS_BUSY,       /* a request in flight */
};

enum req_kind {
    REQ_CREATE, /* tools/call */
    REQ_GET,    /* tasks/get */
    REQ_CANCEL, /* tasks/cancel */
};

/* A cancel waiting to be sent. */
struct pend {
    size_t made;    /* index into the thread's made[] */
    int64_t due_us; /* when to send it (monotonic) */
};

/* A task the dispatch fetch phase still has to read. */
struct fetch {
    size_t made;           /* index into the thread's made[] */
    int64_t not_before_us; /* do not ask again before this (monotonic) */
};

struct lthread;

/* One keep-alive connection. */
struct conn {
    struct lthread *th;               /* its thread */
    const struct twload_target *t;    /* where it connects */
    int fd;                           /* socket, -1 when down */
    int gidx;                         /* index over all connections */
    enum conn_state state;            /* see enum conn_state */
    enum req_kind req;                /* the request in flight (CS_BUSY) */
    bool want_out;                    /* EPOLLOUT registered */
    int fails;                        /* connect failures in a row (backoff) */
    char *out;                        /* owned: the request being sent */
    size_t out_cap, out_len, out_off; /* its size, length and bytes sent */
    char *in;                         /* owned: the answer being read */
    size_t in_cap, in_len;            /* its size and bytes read */
    struct twload_http http;          /* framing of the answer */
    int64_t base_us;                  /* latency is measured from here (the schedule, open loops) */
    int64_t timer_at_us;              /* its timer (monotonic), when heap_idx >= 0 */
    int heap_idx;                     /* position in the thread's heap, -1 when none */
    bool has_task;                    /* e2e: a task being polled */
    char task_id[TWLOAD_TASK_ID_MAX + 1]; /* e2e: its id */
    int64_t task_start_us;                /* e2e: when its create was sent */
    int64_t poll_at_us;                   /* e2e: next tasks/get */
    uint64_t k;                           /* open loops: creates scheduled so far */
    struct pend *pend;                    /* cancel: owned ring of due cancels */
    size_t pend_cap, pend_head, pend_len; /* its size, first entry and length */
    size_t fetch_made;                    /* dispatch fetch: the task being read */
};

/* One thread, its epoll and its connections. */
struct lthread {
    const struct twload_config *cfg;                       /* the run */
    int ep;                                                /* its epoll */
    struct conn *conns;                                    /* owned: its connections */
    int nconns;                                            /* how many */
    struct conn **heap;                                    /* owned: timers, earliest first */
    int heap_len;                                          /* timers set */
    struct twload_stats *st;                               /* owned: its figures */
    int64_t t0_us, win_start_us, win_end_us, drain_end_us; /* phase times (monotonic) */
    double interval_us;                   /* open loops: time between two creates over all conns */
    enum phase phase;                     /* where the thread is */
    int busy;                             /* connections with a request in flight */
    uint64_t next_rpc_id;                 /* JSON-RPC ids */
    size_t get_cursor;                    /* get: next id */
    struct twload_made *made;             /* owned: tasks created */
    size_t nmade, made_cap;               /* entries and size */
    struct fetch *ring;                   /* owned: dispatch fetch queue */
    size_t ring_cap, ring_head, ring_len; /* its size, first entry and length */
    pthread_t tid;                        /* the thread */
};

/* ---- clocks and counters ---- */

static int64_t clock_us(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t now_us(void)
{
    return clock_us(CLOCK_MONOTONIC);
}

static void errs_add(struct twload_stats *st, const char *kind, uint64_t n)
{
    for (int i = 0; i < st->nerrs; i++) {
        if (strncmp(st->errs[i].name, kind, sizeof(st->errs[i].name) - 1) == 0) {
            st->errs[i].n += n;
            return;
        }
    }
    if (st->nerrs >= TWLOAD_ERRKINDS - 1 && strcmp(kind, "other") != 0) {
        errs_add(st, "other", n);
        return;
    }
    struct twload_errkind *e = &st->errs[st->nerrs++];
    snprintf(e->name, sizeof(e->name), "%s", kind);
    e->n = n;
}

/*
 * Count one error of 'kind' (at most 23 chars are kept); past TWLOAD_ERRKINDS - 1 distinct
 * kinds the rest are counted as "other".  Not thread-safe: each thread has its own stats.
 */
void twload_stats_error(struct twload_stats *st, const char *kind)
{
    errs_add(st, kind, 1);
}

static bool in_window(const struct lthread *th, int64_t t)
{
    return t >= th->win_start_us && t < th->win_end_us;
}

/* Count an error unless it happened during the warm-up. */
static void count_error(struct lthread *th, int64_t now, const char *kind)
{
    if (now >= th->win_start_us)
        twload_stats_error(th->st, kind);
}

/* ---- timers: a binary heap of connections ---- */

static void heap_swap(struct lthread *th, int a, int b)
{
    struct conn *x = th->heap[a];
    th->heap[a] = th->heap[b];
    th->heap[b] = x;
    th->heap[a]->heap_idx = a;
    th->heap[b]->heap_idx = b;
}

static void heap_up(struct lthread *th, int i)
{
    while (i > 0 && th->heap[(i - 1) / 2]->timer_at_us > th->heap[i]->timer_at_us) {
        heap_swap(th, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(struct lthread *th, int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < th->heap_len && th->heap[l]->timer_at_us < th->heap[m]->timer_at_us)
            m = l;
        if (r < th->heap_len && th->heap[r]->timer_at_us < th->heap[m]->timer_at_us)
            m = r;
        if (m == i)
            return;
        heap_swap(th, i, m);
        i = m;
    }
}

static void timer_clear(struct conn *c)
{
    struct lthread *th = c->th;
    int i = c->heap_idx;
    if (i < 0)
        return;
    c->heap_idx = -1;
    th->heap_len--;
    if (i == th->heap_len)
        return;
    th->heap[i] = th->heap[th->heap_len];
    th->heap[i]->heap_idx = i;
    heap_up(th, i);
    heap_down(th, i);
}

/* Set (or move) the connection's one timer to 'at_us'. */
static void timer_set(struct conn *c, int64_t at_us)
{
    struct lthread *th = c->th;
    timer_clear(c);
    c->timer_at_us = at_us;
    c->heap_idx = th->heap_len;
    th->heap[th->heap_len++] = c;
    heap_up(th, c->heap_idx);
}

/* ---- created tasks and queues ---- */

/* Append a created task; its index, or SIZE_MAX when memory ran out (counted). */
static size_t made_add(struct lthread *th, const char *id, int64_t ack_unix_us, bool counted)
{
    if (th->nmade == th->made_cap) {
        size_t cap = th->made_cap ? th->made_cap * 2 : 1024;
        struct twload_made *m = realloc(th->made, cap * sizeof(*m));
        if (!m) {
            twload_stats_error(th->st, "out_of_memory");
            return SIZE_MAX;
        }
        th->made = m;
        th->made_cap = cap;
    }
    struct twload_made *m = &th->made[th->nmade];
    memset(m, 0, sizeof(*m));
    snprintf(m->id, sizeof(m->id), "%s", id);
    m->ack_unix_us = ack_unix_us;
    m->counted = counted;
    return th->nmade++;
}

/* Grow the ring at *buf (cap entries of 'size' bytes, 'len' of them from 'head') to twice
 * its size, unrolled to start at 0.  False when memory ran out. */
static bool ring_grow(void **buf, size_t size, size_t *cap, size_t *head, size_t len)
{
    size_t ncap = *cap ? *cap * 2 : 64;
    char *n = malloc(ncap * size);
    if (!n)
        return false;
    for (size_t i = 0; i < len; i++)
        memcpy(n + i * size, (char *)*buf + ((*head + i) % *cap) * size, size);
    free(*buf);
    *buf = n;
    *cap = ncap;
    *head = 0;
    return true;
}

static void pend_push(struct conn *c, size_t made, int64_t due_us)
{
    if (c->pend_len == c->pend_cap &&
        !ring_grow((void **)&c->pend, sizeof(*c->pend), &c->pend_cap, &c->pend_head, c->pend_len)) {
        twload_stats_error(c->th->st, "out_of_memory");
        return;
    }
    c->pend[(c->pend_head + c->pend_len++) % c->pend_cap] = (struct pend){made, due_us};
}

static void fetch_push(struct lthread *th, size_t made, int64_t not_before_us)
{
    if (th->ring_len == th->ring_cap && !ring_grow((void **)&th->ring, sizeof(*th->ring),
                                                   &th->ring_cap, &th->ring_head, th->ring_len)) {
        twload_stats_error(th->st, "out_of_memory");
        return;
    }
    th->ring[(th->ring_head + th->ring_len++) % th->ring_cap] = (struct fetch){made, not_before_us};
}

/* ---- connections ---- */

static void conn_close(struct conn *c)
{
    if (c->fd >= 0)
        close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    if (c->state == CS_BUSY)
        c->th->busy--;
    c->state = CS_DOWN;
    c->want_out = false;
    timer_clear(c);
}

/* Drop the connection and have the timer open it again after 'delay_us'. */
static void conn_reopen(struct conn *c, int64_t now, int64_t delay_us)
{
    conn_close(c);
    c->th->st->reconnects++;
    timer_set(c, now + delay_us);
}

/* A connection failed: count 'kind', keep what the request in flight must not lose (a task
 * being polled, a cancel not answered, a task being fetched), reopen after a backoff. */
static void conn_fail(struct conn *c, int64_t now, const char *kind, bool connect_failure)
{
    struct lthread *th = c->th;
    count_error(th, now, kind);
    if (c->state == CS_BUSY && c->req == REQ_GET && th->phase == PH_FETCH)
        fetch_push(th, c->fetch_made, now);
    if (c->state == CS_BUSY && c->req == REQ_CREATE && th->cfg->mode == TWLOAD_E2E)
        c->has_task = false;
    int64_t delay = 0;
    if (connect_failure) {
        c->fails++;
        delay = (int64_t)5000 << (c->fails < 7 ? c->fails : 7); /* 10 ms .. 640 ms */
    }
    conn_reopen(c, now, delay);
}

static void conn_open(struct conn *c, int64_t now)
{
    struct lthread *th = c->th;
    int one = 1;
    c->fd = socket(c->t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        conn_fail(c, now, "socket", true);
        return;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->state = CS_CONNECTING;
    if (connect(c->fd, (const struct sockaddr *)&c->t->addr, c->t->addr_len) < 0 &&
        errno != EINPROGRESS) {
        conn_fail(c, now, "connect", true);
        return;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(th->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        conn_fail(c, now, "epoll", true);
        return;
    }
    c->want_out = true;
    timer_set(c, now + (int64_t)th->cfg->timeout_ms * 1000);
}

static void want_out(struct conn *c, bool on)
{
    if (c->want_out == on)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (on ? EPOLLOUT : 0u), .data.ptr = c};
    if (epoll_ctl(c->th->ep, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->want_out = on;
}

/* Send what is left of the request; EPOLLOUT finishes it when the socket is full. */
static void conn_flush(struct conn *c, int64_t now)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            want_out(c, true);
            return;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            conn_fail(c, now, "send", false);
            return;
        }
    }
    want_out(c, false);
}

/* Start request 'kind' with 'name' (tool or task id); latency will count from 'base_us'. */
static void conn_send(struct conn *c, int64_t now, enum req_kind kind, const char *name,
                      int64_t base_us)
{
    struct lthread *th = c->th;
    const struct twload_tmpl *t = kind == REQ_CREATE ? &c->t->create
                                  : kind == REQ_GET  ? &c->t->get
                                                     : &c->t->cancel;
    long n = twload_req_build(c->out, c->out_cap, t, ++th->next_rpc_id, name, strlen(name));
    if (n < 0) { /* cannot happen: out_cap is twload_req_size() of the longest */
        count_error(th, now, "request_too_big");
        return;
    }
    c->out_len = (size_t)n;
    c->out_off = 0;
    c->in_len = 0;
    twload_http_reset(&c->http);
    c->req = kind;
    c->state = CS_BUSY;
    th->busy++;
    c->base_us = base_us;
    timer_set(c, now + (int64_t)th->cfg->timeout_ms * 1000);
    conn_flush(c, now);
}

/* ---- what each mode sends next ---- */

/* The open loops' next create time of 'c' (monotonic). */
static int64_t sched_at(const struct conn *c)
{
    const struct lthread *th = c->th;
    double slot = (double)c->gidx + (double)c->k * th->cfg->conns;
    return th->t0_us + (int64_t)(slot * th->interval_us);
}

/* Send the open loop's next create, counting its lateness. */
static void send_scheduled_create(struct conn *c, int64_t now, int64_t due)
{
    struct lthread *th = c->th;
    int64_t late = now - due;
    if (late > LATE_SLACK_US && in_window(th, due)) {
        th->st->late++;
        if ((uint64_t)late > th->st->late_max_us)
            th->st->late_max_us = (uint64_t)late;
    }
    c->k++;
    conn_send(c, now, REQ_CREATE, th->cfg->tool, due);
}

static void next_open_loop(struct conn *c, int64_t now)
{
    struct lthread *th = c->th;
    int64_t create_due = INT64_MAX, cancel_due = INT64_MAX;
    if (th->phase == PH_RUN && sched_at(c) < th->win_end_us)
        create_due = sched_at(c);
    if (c->pend_len)
        cancel_due = c->pend[c->pend_head].due_us;
    int64_t due = create_due < cancel_due ? create_due : cancel_due;
    if (due == INT64_MAX)
        return;
    if (due > now) {
        timer_set(c, due);
    } else if (create_due <= cancel_due) {
        send_scheduled_create(c, now, create_due);
    } else {
        conn_send(c, now, REQ_CANCEL, th->made[c->pend[c->pend_head].made].id, cancel_due);
    }
}

static void next_fetch(struct conn *c, int64_t now)
{
    struct lthread *th = c->th;
    int64_t poll = (int64_t)(th->cfg->poll_ms > 0 ? th->cfg->poll_ms : 1) * 1000;
    if (!th->ring_len) {
        timer_set(c, now + poll); /* another connection may put a task back */
        return;
    }
    struct fetch *f = &th->ring[th->ring_head];
    if (f->not_before_us > now) {
        timer_set(c, f->not_before_us);
        return;
    }
    c->fetch_made = f->made;
    th->ring_head = (th->ring_head + 1) % th->ring_cap;
    th->ring_len--;
    conn_send(c, now, REQ_GET, th->made[c->fetch_made].id, now);
}

/* An idle connection: send what its mode wants next, or set its timer for it. */
static void conn_next(struct conn *c, int64_t now)
{
    struct lthread *th = c->th;
    const struct twload_config *cfg = th->cfg;
    switch (cfg->mode) {
    case TWLOAD_CREATE:
        if (th->phase == PH_RUN)
            conn_send(c, now, REQ_CREATE, cfg->tool, now);
        break;
    case TWLOAD_GET:
        if (th->phase == PH_RUN)
            conn_send(c, now, REQ_GET, cfg->ids[th->get_cursor++ % cfg->nids], now);
        break;
    case TWLOAD_E2E:
        if (th->phase != PH_RUN)
            break;
        if (!c->has_task) {
            c->task_start_us = now;
            conn_send(c, now, REQ_CREATE, cfg->tool, now);
        } else if (c->poll_at_us <= now) {
            conn_send(c, now, REQ_GET, c->task_id, now);
        } else {
            timer_set(c, c->poll_at_us);
        }
        break;
    case TWLOAD_DISPATCH:
        if (th->phase == PH_FETCH)
            next_fetch(c, now);
        else
            next_open_loop(c, now);
        break;
    case TWLOAD_CANCEL:
        next_open_loop(c, now);
        break;
    }
}

/* ---- answers ---- */

/* Count the answer as an error when it is one: true if it was. */
static bool reply_failed(struct conn *c, int64_t now, int parsed, const struct twload_reply *r)
{
    char kind[24];
    if (c->http.status != 200)
        snprintf(kind, sizeof(kind), "http_%d", c->http.status);
    else if (parsed < 0)
        snprintf(kind, sizeof(kind), "bad_json");
    else if (r->is_error)
        snprintf(kind, sizeof(kind), "rpc_%lld", r->error_code);
    else if (!r->has_result)
        snprintf(kind, sizeof(kind), "no_result");
    else
        return false;
    count_error(c->th, now, kind);
    return true;
}

/* e2e: the task of 'c' reached terminal status 'st'. */
static void e2e_done(struct conn *c, int64_t now, enum twload_status st)
{
    c->has_task = false;
    if (st == TWLOAD_ST_COMPLETED && in_window(c->th, now)) {
        c->th->st->ok++;
        twload_hist_record(&c->th->st->lat, (uint64_t)(now - c->task_start_us));
    } else if (st == TWLOAD_ST_FAILED) {
        count_error(c->th, now, "task_failed");
    } else if (st == TWLOAD_ST_CANCELLED) {
        count_error(c->th, now, "task_cancelled");
    }
}

static void on_create(struct conn *c, int64_t now, const struct twload_reply *r)
{
    struct lthread *th = c->th;
    struct twload_stats *st = th->st;
    enum twload_mode mode = th->cfg->mode;
    bool counted = in_window(th, now);
    if (!r->task_id[0]) {
        count_error(th, now, "no_task_id");
        return;
    }
    if (counted)
        twload_hist_record(mode == TWLOAD_E2E ? &st->create_lat : &st->lat,
                           (uint64_t)(now - c->base_us));
    if (counted && (mode == TWLOAD_CREATE || mode == TWLOAD_DISPATCH))
        st->ok++;
    if (counted && mode != TWLOAD_CREATE && mode != TWLOAD_E2E)
        st->created++;
    size_t idx = SIZE_MAX;
    if (mode == TWLOAD_CANCEL || (counted && (mode == TWLOAD_DISPATCH || th->cfg->keep_made)))
        idx = made_add(th, r->task_id, clock_us(CLOCK_REALTIME), counted);
    if (mode == TWLOAD_CANCEL && idx != SIZE_MAX)
        pend_push(c, idx, now + (int64_t)th->cfg->cancel_after_ms * 1000);
    if (mode == TWLOAD_E2E) {
        c->has_task = true;
        memcpy(c->task_id, r->task_id, sizeof(c->task_id));
        c->poll_at_us = now + (int64_t)th->cfg->poll_ms * 1000;
        if (twload_status_terminal(r->status))
            e2e_done(c, now, r->status);
    }
}

/* dispatch fetch: the tasks/get answer of made[c->fetch_made]. */
static void on_fetch(struct conn *c, int64_t now, const struct twload_reply *r)
{
    struct lthread *th = c->th;
    struct twload_made *m = &th->made[c->fetch_made];
    if (!twload_status_terminal(r->status)) {
        fetch_push(th, c->fetch_made, now + (int64_t)th->cfg->poll_ms * 1000);
        return;
    }
    if (r->status != TWLOAD_ST_COMPLETED) {
        count_error(th, now, r->status == TWLOAD_ST_FAILED ? "task_failed" : "task_cancelled");
        return;
    }
    if (!r->has_started_at) {
        count_error(th, now, "no_started_at");
        return;
    }
    m->started_at_us = r->started_at_us;
    int64_t d = r->started_at_us - m->ack_unix_us;
    if (d < 0) {
        th->st->before_ack++;
        d = 0;
    }
    twload_hist_record(&th->st->dispatch, (uint64_t)d);
}

static void on_get(struct conn *c, int64_t now, const struct twload_reply *r)
{
    struct lthread *th = c->th;
    switch (th->cfg->mode) {
    case TWLOAD_GET:
        if (r->status == TWLOAD_ST_NONE) {
            count_error(th, now, "no_status");
        } else if (in_window(th, now)) {
            th->st->ok++;
            twload_hist_record(&th->st->lat, (uint64_t)(now - c->base_us));
        }
        break;
    case TWLOAD_E2E:
        if (twload_status_terminal(r->status))
            e2e_done(c, now, r->status);
        else
            c->poll_at_us = now + (int64_t)th->cfg->poll_ms * 1000;
        break;
    default:
        on_fetch(c, now, r);
        break;
    }
}

static void on_cancel(struct conn *c, int64_t now, bool failed)
{
    struct lthread *th = c->th;
    struct twload_made *m = &th->made[c->pend[c->pend_head].made];
    c->pend_head = (c->pend_head + 1) % c->pend_cap;
    c->pend_len--;
    if (failed)
        return;
    m->cancel_ack_unix_us = clock_us(CLOCK_REALTIME);
    if (m->counted) {
        th->st->ok++;
        twload_hist_record(&th->st->cancel_ack, (uint64_t)(now - c->base_us));
    }
}

/* A whole answer is in c->in: judge it, then go on (or reconnect if the server closes). */
static void conn_reply(struct conn *c, int64_t now)
{
    struct lthread *th = c->th;
    const char *body = c->in + c->http.body_off;
    size_t len = c->http.body_len;
    struct twload_reply r = {0};
    int parsed = -TWLOAD_EPROTO;
    th->busy--;
    c->state = CS_IDLE;
    timer_clear(c);
    if (!c->http.event_stream || twload_sse_last_data(body, len, &body, &len) == 0)
        parsed = twload_reply_parse(body, len, &r);
    bool failed = reply_failed(c, now, parsed, &r);
    if (c->req == REQ_CANCEL)
        on_cancel(c, now, failed);
    else if (failed && c->req == REQ_GET && th->cfg->mode == TWLOAD_E2E)
        c->has_task = false; /* give the task up: the error is counted */
    else if (!failed && c->req == REQ_CREATE)
        on_create(c, now, &r);
    else if (!failed)
        on_get(c, now, &r);
    c->in_len = 0;
    if (c->http.close)
        conn_reopen(c, now, 0);
    else
        conn_next(c, now);
}

/* Grow the answer buffer; false (and the connection failed) past IN_MAX. */
static bool conn_grow_in(struct conn *c, int64_t now)
{
    size_t cap = c->in_cap * 2;
    char *n = cap <= IN_MAX ? realloc(c->in, cap) : NULL;
    if (!n) {
        conn_fail(c, now, "answer_too_big", false);
        return false;
    }
    c->in = n;
    c->in_cap = cap;
    return true;
}

static void conn_eof(struct conn *c, int64_t now)
{
    if (c->state == CS_BUSY && c->http.until_close && c->http.hdr_len) {
        c->http.body_off = c->http.hdr_len;
        c->http.body_len = c->in_len - c->http.hdr_len;
        c->http.close = true;
        conn_reply(c, now);
    } else if (c->state == CS_BUSY) {
        conn_fail(c, now, "closed", false);
    } else {
        conn_reopen(c, now, 0); /* the server closed an idle connection */
    }
}

static void conn_read(struct conn *c, int64_t now)
{
    for (;;) {
        if (c->in_len == c->in_cap && !conn_grow_in(c, now))
            return;
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n == 0) {
            conn_eof(c, now);
            return;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (c->state == CS_BUSY)
                conn_fail(c, now, "recv", false);
            else
                conn_reopen(c, now, 0);
            return;
        }
        c->in_len += (size_t)n;
        if (c->state != CS_BUSY) {
            conn_fail(c, now, "unexpected_data", false);
            return;
        }
        int rc = twload_http_parse(&c->http, c->in, c->in_len);
        if (rc < 0) {
            conn_fail(c, now, "http_parse", false);
            return;
        }
        if (rc == 1 && c->http.msg_len != c->in_len) {
            conn_fail(c, now, "http_extra_bytes", false);
            return;
        }
        if (rc == 1) {
            conn_reply(c, now);
            return;
        }
    }
}

static void conn_connected(struct conn *c, int64_t now)
{
    int err = 0;
    socklen_t len = sizeof(err);
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0 || err) {
        conn_fail(c, now, "connect", true);
        return;
    }
    c->fails = 0;
    c->state = CS_IDLE;
    timer_clear(c);
    want_out(c, false);
    conn_next(c, now);
}

static void conn_event(struct conn *c, uint32_t events)
{
    int64_t now = now_us();
    if (c->state == CS_CONNECTING) {
        conn_connected(c, now);
        return;
    }
    if ((events & EPOLLOUT) && c->state == CS_BUSY && c->out_off < c->out_len) {
        conn_flush(c, now);
        if (c->state != CS_BUSY)
            return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        conn_read(c, now);
}

static void conn_timer(struct conn *c, int64_t now)
{
    switch (c->state) {
    case CS_DOWN:
        conn_open(c, now);
        break;
    case CS_CONNECTING:
        conn_fail(c, now, "connect_timeout", true);
        break;
    case CS_BUSY:
        conn_fail(c, now, "timeout", false);
        break;
    case CS_IDLE:
        conn_next(c, now);
        break;
    }
}

/* ---- the thread's loop and phases ---- */

static void kick_idle(struct lthread *th, int64_t now)
{
    for (int i = 0; i < th->nconns; i++)
        if (th->conns[i].state == CS_IDLE)
            conn_next(&th->conns[i], now);
}

static size_t pending_cancels(const struct lthread *th)
{
    size_t n = 0;
    for (int i = 0; i < th->nconns; i++)
        n += th->conns[i].pend_len;
    return n;
}

static void enter_fetch(struct lthread *th, int64_t now)
{
    for (size_t i = 0; i < th->nmade; i++)
        if (th->made[i].counted)
            fetch_push(th, i, now);
    th->phase = PH_FETCH;
    kick_idle(th, now);
}

/* Move the thread on when its phase is over. */
static void phase_step(struct lthread *th, int64_t now)
{
    enum twload_mode mode = th->cfg->mode;
    if (th->phase == PH_RUN && atomic_load(&twload_stop) && now < th->win_end_us)
        th->win_end_us = now > th->win_start_us ? now : th->win_start_us;
    if (th->phase == PH_RUN && now >= th->win_end_us) {
        th->phase = mode == TWLOAD_DISPATCH || mode == TWLOAD_CANCEL ? PH_DRAIN : PH_DONE;
        th->drain_end_us = now + (int64_t)(th->cfg->drain_s * 1e6);
        for (int i = 0; mode == TWLOAD_E2E && i < th->nconns; i++)
            th->st->unfinished += th->conns[i].has_task; /* created, not yet seen terminal */
    }
    bool late = th->phase != PH_RUN && now >= th->drain_end_us;
    if (th->phase == PH_DRAIN && mode == TWLOAD_DISPATCH && (th->busy == 0 || late))
        enter_fetch(th, now);
    else if (th->phase == PH_DRAIN && mode == TWLOAD_CANCEL &&
             ((th->busy == 0 && pending_cancels(th) == 0) || late))
        th->phase = PH_DONE;
    else if (th->phase == PH_FETCH && ((th->busy == 0 && th->ring_len == 0) || late))
        th->phase = PH_DONE;
    if (th->phase == PH_DONE && late)
        th->st->unfinished += mode == TWLOAD_CANCEL ? pending_cancels(th) + (size_t)th->busy
                                                    : th->ring_len + (size_t)th->busy;
}

static int64_t wake_in(const struct lthread *th, int64_t now)
{
    int64_t at = now + WAKE_MAX_US;
    int64_t phase_at = th->phase == PH_RUN ? th->win_end_us : th->drain_end_us;
    if (phase_at < at)
        at = phase_at;
    if (th->heap_len && th->heap[0]->timer_at_us < at)
        at = th->heap[0]->timer_at_us;
    return at > now ? at - now : 0;
}

static void *thread_main(void *arg)
{
    struct lthread *th = arg;
    struct epoll_event evs[MAX_EVENTS];
    int64_t now = now_us();
    for (int i = 0; i < th->nconns; i++)
        conn_open(&th->conns[i], now);
    while (th->phase != PH_DONE) {
        now = now_us();
        while (th->heap_len && th->heap[0]->timer_at_us <= now) {
            struct conn *c = th->heap[0];
            timer_clear(c);
            conn_timer(c, now);
        }
        phase_step(th, now);
        if (th->phase == PH_DONE)
            break;
        int64_t w = wake_in(th, now_us());
        struct timespec ts = {(time_t)(w / 1000000), (long)(w % 1000000) * 1000};
        int n = epoll_pwait2(th->ep, evs, MAX_EVENTS, &ts, NULL);
        if (n < 0 && errno != EINTR) {
            twload_stats_error(th->st, "epoll_wait");
            break;
        }
        for (int i = 0; i < n; i++)
            conn_event(evs[i].data.ptr, evs[i].events);
    }
    for (int i = 0; i < th->nconns; i++)
        conn_close(&th->conns[i]);
    return NULL;
}

/* ---- set-up, merge, tear-down ---- */

static size_t out_size(const struct twload_target *t, const char *tool)
{
    size_t a = twload_req_size(&t->create, strlen(tool));
    size_t b = twload_req_size(&t->get, TWLOAD_TASK_ID_MAX);
    size_t d = twload_req_size(&t->cancel, TWLOAD_TASK_ID_MAX);
    size_t m = a > b ? a : b;
    return m > d ? m : d;
}

static int thread_init(struct lthread *th, const struct twload_config *cfg, int index, int64_t t0,
                       struct err *e)
{
    th->cfg = cfg;
    th->ep = epoll_create1(EPOLL_CLOEXEC);
    th->nconns = cfg->conns / cfg->threads + (index < cfg->conns % cfg->threads);
    th->conns = calloc((size_t)th->nconns, sizeof(*th->conns));
    th->heap = calloc((size_t)th->nconns, sizeof(*th->heap));
    th->st = calloc(1, sizeof(*th->st));
    if (th->ep < 0 || !th->conns || !th->heap || !th->st)
        return err_set(e, -TWLOAD_RUN_ESYS, "cannot set up thread %d: %s", index, strerror(errno));
    th->t0_us = t0;
    th->win_start_us = t0 + (int64_t)(cfg->warmup_s * 1e6);
    th->win_end_us = th->win_start_us + (int64_t)(cfg->duration_s * 1e6);
    th->interval_us = cfg->rate > 0 ? 1e6 / cfg->rate : 0;
    th->get_cursor = cfg->nids ? (size_t)index * (cfg->nids / (size_t)cfg->threads) : 0;
    for (int i = 0; i < th->nconns; i++) {
        struct conn *c = &th->conns[i];
        c->th = th;
        c->gidx = index + i * cfg->threads;
        c->t = &cfg->targets[c->gidx % cfg->ntargets];
        c->fd = -1;
        c->heap_idx = -1;
        c->out_cap = out_size(c->t, cfg->tool);
        c->out = malloc(c->out_cap);
        c->in_cap = IN_FIRST_CAP;
        c->in = malloc(c->in_cap);
        if (!c->out || !c->in)
            return err_set(e, -TWLOAD_RUN_ESYS, "out of memory");
    }
    return 0;
}

static void thread_fini(struct lthread *th)
{
    for (int i = 0; th->conns && i < th->nconns; i++) {
        free(th->conns[i].out);
        free(th->conns[i].in);
        free(th->conns[i].pend);
    }
    if (th->ep >= 0)
        close(th->ep);
    free(th->conns);
    free(th->heap);
    free(th->st);
    free(th->made);
    free(th->ring);
}

static void stats_merge(struct twload_stats *dst, const struct twload_stats *src)
{
    dst->ok += src->ok;
    dst->created += src->created;
    dst->late += src->late;
    if (src->late_max_us > dst->late_max_us)
        dst->late_max_us = src->late_max_us;
    dst->before_ack += src->before_ack;
    dst->unfinished += src->unfinished;
    dst->reconnects += src->reconnects;
    for (int i = 0; i < src->nerrs; i++)
        errs_add(dst, src->errs[i].name, src->errs[i].n);
    twload_hist_merge(&dst->lat, &src->lat);
    twload_hist_merge(&dst->create_lat, &src->create_lat);
    twload_hist_merge(&dst->dispatch, &src->dispatch);
    twload_hist_merge(&dst->cancel_ack, &src->cancel_ack);
}

/* Merge the threads' figures and created tasks into 'out'. */
static int collect(struct lthread *ths, int n, struct twload_result *out, struct err *e)
{
    size_t total = 0;
    for (int i = 0; i < n; i++)
        total += ths[i].nmade;
    out->stats = calloc(1, sizeof(*out->stats));
    out->made = calloc(total ? total : 1, sizeof(*out->made));
    if (!out->stats || !out->made)
        return err_set(e, -TWLOAD_RUN_ESYS, "out of memory");
    for (int i = 0; i < n; i++) {
        stats_merge(out->stats, ths[i].st);
        if (ths[i].nmade)
            memcpy(out->made + out->nmade, ths[i].made, ths[i].nmade * sizeof(*out->made));
        out->nmade += ths[i].nmade;
    }
    out->window_s = (double)(ths[0].win_end_us - ths[0].win_start_us) / 1e6;
    return 0;
}

/*
 * Run the load of 'cfg': start cfg->threads threads, each with its share of connections,
 * wait for them all, merge their figures into *out (zeroed first; release with
 * twload_result_fini()).  Returns 0 once the load ran (whatever the server answered), or
 * -TWLOAD_RUN_ESYS with 'e' filled when a thread could not be set up or started.
 */
int twload_run(const struct twload_config *cfg, struct twload_result *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    struct lthread *ths = calloc((size_t)cfg->threads, sizeof(*ths));
    int started = 0, rc = 0;
    if (!ths)
        return err_set(e, -TWLOAD_RUN_ESYS, "out of memory");
    for (int i = 0; i < cfg->threads; i++)
        ths[i].ep = -1;
    int64_t t0 = now_us() + 20000; /* every thread starts its schedule at the same time */
    for (int i = 0; i < cfg->threads && rc == 0; i++)
        rc = thread_init(&ths[i], cfg, i, t0, e);
    for (; rc == 0 && started < cfg->threads; started++) {
        int prc = pthread_create(&ths[started].tid, NULL, thread_main, &ths[started]);
        if (prc != 0) {
            atomic_store(&twload_stop, true);
            rc = err_set(e, -TWLOAD_RUN_ESYS, "cannot start a thread: %s", strerror(prc));
        }
    }
    for (int i = 0; i < started; i++)
        pthread_join(ths[i].tid, NULL);
    if (rc == 0)
        rc = collect(ths, cfg->threads, out, e);
    for (int i = 0; i < cfg->threads; i++)
        thread_fini(&ths[i]);
    free(ths);
    if (rc < 0)
        twload_result_fini(out);
    return rc;
}

/* Free the figures and the created tasks of 'r'; 'r' is empty afterwards. */
void twload_result_fini(struct twload_result *r)
{
    free(r->stats);
    free(r->made);
    memset(r, 0, sizeof(*r));
}
