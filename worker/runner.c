/*
 * runner.c - the worker runtime: slots and heartbeats.
 *
 * Threads: the receive loop (runner_run, which also runs the sweeper pass of
 * worker/sweeper.c), one thread per slot running tools, one heartbeat thread
 * writing leases and coalesced progress and checking cancel events, and the
 * Redis subscriber delivering them.  One mutex (r->mu) guards all slot
 * state; it is never held across a database or network call.  What a running
 * tool shares with these threads is a struct toolctx_state behind its own
 * lock (worker/toolctx.h), taken after r->mu, never before.  While every
 * slot is busy the receive loop holds the next envelopes (one per slot), and
 * a slot's outcome claims the oldest in its own commit (worker/outcome.c),
 * so under load a task costs one round trip fewer and the slot never idles.
 * The fabric socket is worker/fabric.c; the tool API is worker/toolctx.c.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "runner.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cancelhint.h"
#include "clock.h"
#include "fabric.h"
#include "fairclaim.h"
#include "log.h"
#include "mcpdefs.h"
#include "metrics.h"
#include "notify.h"
#include "outcome.h"
#include "registry.h"
#include "store.h"
#include "sweeper.h"
#include "toolctx.h"
#include "toolmetrics.h"
#include "toolrun.h"
#include "tools.h"
#include "trace.h"

#define HEARTBEAT_TICK_MS 50
#define RECEIVE_WAIT_MS   100 /* longest wait for the fabric or a free slot */

enum slot_state { SLOT_IDLE, SLOT_ASSIGNED, SLOT_BUSY };

struct slot {
    struct runner *r;          /* owner */
    pthread_t thread;          /* runs tools */
    pthread_cond_t cv;         /* wakes the slot: assignment, shutdown */
    struct store *store;       /* this slot's PostgreSQL connection */
    struct notify_pub *pub;    /* this slot's change-event publisher */
    struct toolctx_state tool; /* shared with the tool being run (its own lock) */
    bool tool_ready;           /* 'tool' was initialised */
    /* Everything below is guarded by r->mu. */
    enum slot_state state;        /* idle, assigned (job set) or busy (task claimed) */
    char job_id[TASKID_LEN + 1];  /* task to claim (from an envelope); "": the fairest queued */
    int job_cap;                  /* running cap of that claim (fairclaim_cap) */
    char task_id[TASKID_LEN + 1]; /* the task being run */
    char claim[TASKID_LEN + 1];   /* its claim token (store_task_claim) */
    bool verify;                  /* a cancel event named the task: read it before stopping */
    bool release;                 /* shutting down: give the task back */
    int64_t last_write_ms;        /* last progress write (monotonic) */
    int64_t last_renew_ms;        /* last lease renewal (monotonic) */
    int64_t started_ms;           /* claim of the task being run (monotonic) */
};

struct runner {
    struct runner_cfg cfg;                /* settings (strings borrowed from main) */
    const struct catalog *catalog;        /* tool definitions */
    struct fabric *fabric;                /* the PULL socket */
    struct store *store;                  /* receive-loop connection: the sweeper */
    struct store *hb_store;               /* heartbeat thread's connection */
    struct notify_pub *hb_pub;            /* heartbeat thread's change-event publisher */
    struct notify_pub *loop_pub;          /* receive loop's publisher (sweeper events) */
    struct notify_sub *events;            /* Redis cancel events */
    pthread_t hb_thread;                  /* heartbeat thread */
    pthread_cond_t hb_cv;                 /* wakes the heartbeat thread early (cancel events) */
    pthread_mutex_t mu;                   /* guards the slots and the flags below */
    pthread_cond_t free_cv;               /* a slot became idle */
    struct slot *slots;                   /* cfg.slots entries */
    struct fairclaim fair;                /* running caps and reserved slots */
    struct registry *reg;                 /* this worker's registry row; drain (registry.h) */
    int idle;                             /* slots in SLOT_IDLE */
    bool quit;                            /* threads must exit */
    bool draining;                        /* shutting down: claimed jobs are given back */
    bool poll_again;                      /* a fair claim found a task: there may be more */
    char (*held)[TASKID_LEN + 1];         /* envelopes received while every slot was busy: */
    int held_first, nheld;                /* a ring of cfg.slots, oldest at held_first */
    volatile sig_atomic_t stop_requested; /* set by runner_stop */
};

/* ---- running one task on a slot ---- */

/* Seconds since the slot claimed its task. */
static double run_seconds(const struct slot *s)
{
    return (double)(clock_now_ms() - s->started_ms) / 1e3;
}

/* The oldest envelope held into 'id'; false when none is.  Called with r->mu held. */
static bool unhold(struct runner *r, char *id)
{
    if (r->nheld == 0)
        return false;
    memcpy(id, r->held[r->held_first], TASKID_LEN + 1);
    r->held_first = (r->held_first + 1) % r->cfg.slots;
    toolmetrics_held(--r->nheld);
    pthread_cond_broadcast(&r->free_cv); /* the receive loop may hold the next one */
    return true;
}

/* Take the oldest envelope held by runner 'arg', with the cap of a claim into this slot
 * once it is free; false when there is none or the worker is shutting down or drained.
 * A slot's outcome claims it in its commit (outcome_slot.take_next). */
static bool take_held(void *arg, char *id, int *cap)
{
    struct runner *r = arg;
    pthread_mutex_lock(&r->mu);
    bool taken = !r->draining && !registry_draining(r->reg) && unhold(r, id);
    if (taken)
        *cap = fairclaim_cap(&r->fair, r->idle + 1, r->cfg.slots);
    pthread_mutex_unlock(&r->mu);
    return taken;
}

/* The outcome module's view of slot 's' (outcome.h). */
static struct outcome_slot writer(struct slot *s)
{
    struct runner *r = s->r;
    return (struct outcome_slot){s->store,         s->pub,          r->reg,         &r->fair,
                                 r->cfg.worker_id, r->cfg.lease_ms, run_seconds(s), &s->tool,
                                 take_held,        r};
}

/* Act on what the run left (outcome_settle()); takes ownership of 'result' and 'error';
 * true when an outcome's commit claimed the slot's *next task. */
static bool settle(struct slot *s, const struct task_row *row, json_t *result, json_t *error,
                   struct task_row *next)
{
    struct toolctx_outcome out;
    /* In this order: drain() sets release under r->mu before it stops the tool, so a
     * stop by shutdown seen here is always seen with its release. */
    toolctx_state_outcome(&s->tool, &out);
    pthread_mutex_lock(&s->r->mu);
    bool shutdown = s->release;
    pthread_mutex_unlock(&s->r->mu);
    struct outcome_slot os = writer(s);
    return outcome_settle(&os, row, &out, shutdown, result, error, next);
}

/* Run the claimed task 'row' on slot 's' and store or act on what it gives; true with
 * the slot's next task claimed into *next. */
static bool run_task(struct slot *s, const struct task_row *row, struct task_row *next)
{
    struct tool_ctx ctx;
    json_t *error = NULL;
    struct trace_ctx trace;
    trace_begin_task(&trace, row->trace);
    trace_log_begin(&trace);
    toolctx_init(&ctx, &s->tool, row, s->store, s->pub, s->r->cfg.worker_id);
    ctx.trace = &trace;
    LOG_INFO("task started", "task_id", row->id, "tool", row->tool, "worker", s->r->cfg.worker_id);
    json_t *result = toolrun_invoke(s->r->catalog, &ctx, &error);
    bool more = settle(s, row, result, error, next);
    toolmetrics_spans(&trace, row->tool, row->created_us, run_seconds(s));
    toolctx_fini(&ctx);
    trace_log_end();
    return more;
}

/* Claim the job assigned to 's' (or, refused, the fairest eligible task); 0 or a
 * -STORE_* code. */
static int claim(struct slot *s, const char *id, int cap, struct task_row *row)
{
    struct runner *r = s->r;
    struct err e = {0};
    if (!id[0]) {
        /* An idle poll: the fairest queued task, claimed on this slot's own connection so
         * that a backlog is taken by every free slot at once, not one claim at a time. */
        int rc = store_task_claim_next(s->store, r->cfg.worker_id, r->cfg.lease_ms, cap, row, &e);
        pthread_mutex_lock(&r->mu);
        r->poll_again = rc == 0;
        pthread_mutex_unlock(&r->mu);
        return rc;
    }
    int rc = fairclaim_take(&r->fair, s->store, id, r->cfg.worker_id, r->cfg.lease_ms, cap, row,
                            &e);
    if (rc == -STORE_ENOTFOUND)
        toolmetrics_claim_missed();
    else if (rc < 0)
        LOG_WARN("claim failed", "task_id", id, "error", e.msg);
    return rc;
}

/* Mark 's' busy with the claimed 'row' and start a fresh run state.  Called with r->mu held. */
static void begin(struct slot *s, const struct task_row *row)
{
    s->state = SLOT_BUSY;
    memcpy(s->task_id, row->id, sizeof(s->task_id));
    memcpy(s->claim, row->claim, sizeof(s->claim));
    s->release = false;
    toolctx_state_reset(&s->tool);
    s->last_write_ms = s->last_renew_ms = s->started_ms = clock_now_ms();
}

/* Claim and run the job assigned to 's', and the tasks its outcomes' commits claimed;
 * called without r->mu. */
static void serve(struct slot *s, const char *id, int cap, struct task_row *row)
{
    struct runner *r = s->r;
    bool claimed = claim(s, id, cap, row) == 0;
    while (claimed) {
        pthread_mutex_lock(&r->mu);
        bool draining = r->draining;
        if (!draining)
            begin(s, row);
        toolmetrics_claimed(row->tool, row->created_us);
        pthread_mutex_unlock(&r->mu);
        if (draining) {
            struct outcome_slot os = writer(s); /* claimed while shutting down: give it back */
            outcome_release(&os, row);
            return;
        }
        struct task_row next = {0};
        claimed = run_task(s, row, &next);
        task_row_fini(row);
        *row = next;
    }
}

/* A slot's thread: wait for a job, claim it, run it, become idle again. */
static void *slot_main(void *arg)
{
    struct slot *s = arg;
    struct runner *r = s->r;
    pthread_mutex_lock(&r->mu);
    for (;;) {
        while (s->state != SLOT_ASSIGNED && !r->quit)
            pthread_cond_wait(&s->cv, &r->mu);
        if (s->state != SLOT_ASSIGNED)
            break;
        struct task_row row = {0};
        char id[TASKID_LEN + 1];
        memcpy(id, s->job_id, sizeof(id));
        int cap = s->job_cap;
        pthread_mutex_unlock(&r->mu);

        serve(s, id, cap, &row);
        task_row_fini(&row);

        pthread_mutex_lock(&r->mu);
        s->state = SLOT_IDLE;
        s->task_id[0] = '\0';
        r->idle++;
        toolmetrics_busy(r->cfg.slots - r->idle);
        pthread_cond_broadcast(&r->free_cv);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* Hand task 'id' to an idle slot to claim ("": the fairest queued task); the caller saw
 * r->idle > 0. */
static void assign(struct runner *r, const char *id)
{
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->cfg.slots; i++) {
        struct slot *s = &r->slots[i];
        if (s->state != SLOT_IDLE)
            continue;
        s->state = SLOT_ASSIGNED;
        s->job_cap = fairclaim_cap(&r->fair, r->idle, r->cfg.slots);
        snprintf(s->job_id, sizeof(s->job_id), "%s", id);
        r->idle--;
        toolmetrics_busy(r->cfg.slots - r->idle);
        pthread_cond_signal(&s->cv);
        break;
    }
    pthread_mutex_unlock(&r->mu);
}

/* Stop the tool of the slot running 'task_id' (under any claim when claim is NULL). */
static void stop_task(struct runner *r, const char *task_id, const char *claim)
{
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->cfg.slots; i++) {
        struct slot *s = &r->slots[i];
        if (s->state == SLOT_BUSY && strcmp(s->task_id, task_id) == 0 &&
            (!claim || strcmp(s->claim, claim) == 0))
            toolctx_state_stop(&s->tool);
    }
    pthread_mutex_unlock(&r->mu);
}

/*
 * A cancel event from Redis is only a hint: anyone who reaches Redis could
 * publish one.  Mark the slot running that task and wake the heartbeat
 * thread, which reads the task before it stops anything.
 */
static void on_event(void *arg, const char *kind, const char *task_id)
{
    struct runner *r = arg;
    if (strcmp(kind, NOTIFY_CANCEL) != 0)
        return;
    bool marked = false;
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->cfg.slots; i++) {
        struct slot *s = &r->slots[i];
        if (s->state == SLOT_BUSY && strcmp(s->task_id, task_id) == 0)
            s->verify = marked = true;
    }
    if (marked)
        pthread_cond_signal(&r->hb_cv);
    pthread_mutex_unlock(&r->mu);
}

/* Collect (and clear) the runs a cancel event named into 'runs'; how many. */
static int collect_verifications(struct runner *r, struct run_ref *runs)
{
    int n = 0;
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->cfg.slots; i++) {
        struct slot *s = &r->slots[i];
        if (s->state != SLOT_BUSY || !s->verify)
            continue;
        s->verify = false;
        memcpy(runs[n].id, s->task_id, sizeof(runs[n].id));
        memcpy(runs[n].claim, s->claim, sizeof(runs[n].claim));
        n++;
    }
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* ---- heartbeats ---- */

struct beat {
    char id[TASKID_LEN + 1]; /* task */
    char claim[TASKID_LEN + 1]; /* its claim token */
    struct toolctx_beat b;   /* liveness and the progress snapshot */
};

/* Snapshot the busy slots whose lease or progress is due into 'beats'; how many. */
static int collect_beats(struct runner *r, struct beat *beats, int64_t now)
{
    int n = 0;
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->cfg.slots; i++) {
        struct slot *s = &r->slots[i];
        if (s->state != SLOT_BUSY)
            continue;
        struct beat *b = &beats[n];
        toolctx_state_beat(&s->tool, now - s->last_write_ms >= r->cfg.progress_ms, &b->b);
        if (!b->b.live ||
            (!b->b.with_progress && !b->b.logs && now - s->last_renew_ms < r->cfg.lease_ms / 3))
            continue;
        memcpy(b->id, s->task_id, sizeof(b->id));
        memcpy(b->claim, s->claim, sizeof(b->claim));
        s->last_renew_ms = now;
        if (b->b.with_progress || b->b.logs)
            s->last_write_ms = now;
        n++;
    }
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* Write one beat: renew the lease, with progress when taken; stop the tool on a lost lease. */
static void send_beat(struct runner *r, const struct beat *beat)
{
    const struct toolctx_beat *b = &beat->b;
    struct err e = {0};
    int rc =
        store_task_heartbeat(r->hb_store, beat->id, r->cfg.worker_id, beat->claim,
                             r->cfg.lease_ms, b->with_progress && b->message[0] ? b->message : NULL,
                             b->with_progress ? b->progress : -1, b->total, b->logs, &e);
    if (rc == 0 && (b->with_progress || b->logs))
        notify_publish(r->hb_pub, NOTIFY_CHANGED, beat->id);
    if (rc == -STORE_ELOST)
        stop_task(r, beat->id, beat->claim);
    else if (rc < 0)
        LOG_WARN("heartbeat failed", "task_id", beat->id, "error", e.msg);
}

/* The heartbeat thread: every tick, renew due leases and write due progress. */
static void *heartbeat_main(void *arg)
{
    struct runner *r = arg;
    struct beat *beats = calloc((size_t)r->cfg.slots, sizeof(*beats));
    if (!beats)
        return NULL;
    struct run_ref *runs = calloc((size_t)r->cfg.slots, sizeof(*runs));
    pthread_mutex_lock(&r->mu);
    while (!r->quit && runs) {
        int busy = r->cfg.slots - r->idle;
        pthread_mutex_unlock(&r->mu);
        registry_tick(r->reg, busy, clock_now_ms());
        int n = collect_verifications(r, runs);
        for (int i = 0; i < n; i++)
            if (cancelhint_check(r->hb_store, r->cfg.worker_id, &runs[i]) == CANCELHINT_STOP)
                stop_task(r, runs[i].id, runs[i].claim);
        n = collect_beats(r, beats, clock_now_ms());
        for (int i = 0; i < n; i++) {
            send_beat(r, &beats[i]);
            free(beats[i].b.logs);
        }
        pthread_mutex_lock(&r->mu);
        struct timespec until = clock_deadline_in(HEARTBEAT_TICK_MS);
        if (!r->quit)
            pthread_cond_timedwait(&r->hb_cv, &r->mu, &until);
    }
    pthread_mutex_unlock(&r->mu);
    free(runs);
    free(beats);
    return NULL;
}

/* ---- receive loop ---- */

/* The number of free slots (0: none), after waiting up to RECEIVE_WAIT_MS for one
 * when every slot is busy and as many envelopes are held. */
static int slots_free(struct runner *r)
{
    pthread_mutex_lock(&r->mu);
    int idle = r->idle;
    if (idle == 0 && r->nheld == r->cfg.slots) {
        struct timespec until = clock_deadline_in(RECEIVE_WAIT_MS);
        pthread_cond_timedwait(&r->free_cv, &r->mu, &until);
    }
    pthread_mutex_unlock(&r->mu);
    return idle;
}

/*
 * Give one of the 'idle' free slots work: from the fabric, but from
 * PostgreSQL every idle-poll-ms whatever the fabric is doing (a busy fabric
 * must not starve a requeued task that no one will push), and again at once
 * while those polls find tasks; each claim carries the running cap of its
 * slot (fairclaim.h).  *next_idle_poll is when PostgreSQL is asked next.
 */
static void take_work(struct runner *r, int64_t *next_idle_poll)
{
    char id[TASKID_LEN + 1];
    if (registry_draining(r->reg)) {
        /* Drained by an operator: envelopes are only hints, the tasks stay queued for
         * the other workers; claim nothing. */
        if (fabric_receive(r->fabric, RECEIVE_WAIT_MS, id))
            LOG_DEBUG("draining: envelope left to other workers", "task_id", id);
        return;
    }
    pthread_mutex_lock(&r->mu);
    if (r->poll_again)
        *next_idle_poll = 0; /* the last idle poll found a task: there may be more */
    r->poll_again = false;
    bool held = unhold(r, id);
    pthread_mutex_unlock(&r->mu);
    if (held) {
        assign(r, id);
        return;
    }
    if (clock_now_ms() < *next_idle_poll) {
        if (fabric_receive(r->fabric, RECEIVE_WAIT_MS, id))
            assign(r, id);
        return;
    }
    *next_idle_poll = clock_now_ms() + r->cfg.idle_poll_ms;
    assign(r, ""); /* a slot claims the fairest queued task (claim()) */
}

/* Every slot is busy: receive the next envelope and hold it (up to one per slot) for a
 * slot's outcome to claim in its commit (take_held()), or for the next slot to free. */
static void hold_next(struct runner *r)
{
    char id[TASKID_LEN + 1];
    pthread_mutex_lock(&r->mu);
    bool full = r->nheld == r->cfg.slots;
    pthread_mutex_unlock(&r->mu);
    if (full || !fabric_receive(r->fabric, RECEIVE_WAIT_MS, id))
        return;
    if (registry_draining(r->reg)) {
        LOG_DEBUG("draining: envelope left to other workers", "task_id", id);
        return;
    }
    pthread_mutex_lock(&r->mu);
    memcpy(r->held[(r->held_first + r->nheld++) % r->cfg.slots], id, sizeof(id));
    toolmetrics_held(r->nheld);
    pthread_mutex_unlock(&r->mu);
}

/* Shutdown: let running tasks finish within the grace period, then give the rest back
 * without counting an attempt; returns once every slot is idle. */
static void drain(struct runner *r)
{
    struct timespec until = clock_deadline_in(r->cfg.grace_ms);
    pthread_mutex_lock(&r->mu);
    r->draining = true;
    while (r->idle < r->cfg.slots &&
           pthread_cond_timedwait(&r->free_cv, &r->mu, &until) != ETIMEDOUT)
        ;
    for (int i = 0; i < r->cfg.slots; i++) {
        struct slot *s = &r->slots[i];
        if (s->state == SLOT_BUSY) {
            s->release = true;
            toolctx_state_stop(&s->tool);
        }
    }
    while (r->idle < r->cfg.slots)
        pthread_cond_wait(&r->free_cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
}

/*
 * The receive loop: take work only while a slot is free, from the fabric
 * first and from PostgreSQL when the fabric is quiet; sweep periodically;
 * resolve dns:// fabric names every fabric-resolve-ms.  Returns after
 * runner_stop(), once running tasks finished or were released.  Runs on one
 * thread (the caller's).
 */
void runner_run(struct runner *r)
{
    int64_t next_sweep = 0, next_idle_poll = 0, next_resolve = clock_now_ms() + r->cfg.resolve_ms;
    while (!r->stop_requested) {
        int64_t now = clock_now_ms();
        if (now >= next_resolve) {
            struct err e = {0};
            if (fabric_refresh(r->fabric, &e) < 0)
                LOG_WARN("fabric refresh", "error", e.msg);
            next_resolve = now + r->cfg.resolve_ms;
        }
        if (now >= next_sweep) {
            sweeper_pass(r->store, r->loop_pub, r->cfg.lease_ms);
            next_sweep = now + r->cfg.sweep_ms;
        }
        if (slots_free(r) > 0)
            take_work(r, &next_idle_poll);
        else
            hold_next(r);
    }
    fabric_close(r->fabric);
    LOG_INFO("stopping: no longer receiving; waiting for running tasks");
    drain(r);
}

/* Ask runner_run() to return; async-signal-safe (sets a flag only). */
void runner_stop(struct runner *r)
{
    r->stop_requested = 1;
}

/*
 * True when PostgreSQL answers a ping on a fresh connection (for /readyz).
 * 'arg' is the runner.  Thread-safe: touches no connection of the runner.
 */
bool runner_ready(void *arg)
{
    struct runner *r = arg;
    /* The admin thread owns no store of its own; a short-lived one keeps the
     * receive loop's connection single-threaded. */
    struct store *st = store_new(r->cfg.pg_dsn, "taskwire-worker-readyz");
    bool ok = st && store_ping(st);
    store_free(st);
    return ok;
}

/* Initialise every slot and start its thread; 0 or -RUNNER_ESTART with 'err' set. */
static int start_slots(struct runner *r, struct err *err)
{
    for (int i = 0; i < r->cfg.slots; i++) {
        struct slot *s = &r->slots[i];
        s->r = r;
        clock_cond_init(&s->cv);
        struct err e = {0};
        if (toolctx_state_init(&s->tool, &e) < 0)
            return err_set(err, -RUNNER_ESTART, "cannot start slot %d: %s", i, e.msg);
        s->tool_ready = true;
        if (!(s->store = store_new(r->cfg.pg_dsn, "taskwire-worker-slot")) ||
            !(s->pub = notify_pub_new(r->cfg.redis_addr)) ||
            pthread_create(&s->thread, NULL, slot_main, s) != 0)
            return err_set(err, -RUNNER_ESTART, "cannot start slot %d", i);
        r->idle++;
    }
    return 0;
}

/*
 * Create the runner: the fabric socket, connections (opened lazily), slot
 * and heartbeat threads, the Redis subscriber.  Strings in 'cfg' and the
 * catalog are borrowed and must outlive the runner.  Returns a new runner
 * (runner_free() it), or NULL with 'err' set: a -FABRIC_* code when the
 * fabric cannot be connected, -RUNNER_ENOMEM or -RUNNER_ESTART.
 */
struct runner *runner_new(const struct runner_cfg *cfg, const struct catalog *catalog,
                          struct err *err)
{
    struct runner *r = calloc(1, sizeof(*r));
    if (!r) {
        err_set(err, -RUNNER_ENOMEM, "out of memory");
        return NULL;
    }
    r->cfg = *cfg;
    r->catalog = catalog;
    r->fair.max_running = cfg->owner_max_running;
    r->fair.reserved = cfg->reserved_slots;
    r->fair.quiet_ms = cfg->idle_poll_ms;
    pthread_mutex_init(&r->mu, NULL);
    clock_cond_init(&r->free_cv);
    clock_cond_init(&r->hb_cv);
    if (toolmetrics_init(catalog, cfg->slots) < 0) {
        err_set(err, -RUNNER_ENOMEM, "out of memory");
        goto out_free;
    }
    sweeper_metrics_register();
    cancelhint_metrics_register();
    struct fabric_curve curve = {cfg->fabric_server_key, cfg->fabric_secret_key};
    if (!(r->fabric = fabric_new(cfg->fabric_connect, cfg->fabric_server_key ? &curve : NULL, err)))
        goto out_free;
    r->store = store_new(cfg->pg_dsn, "taskwire-worker");
    r->hb_store = store_new(cfg->pg_dsn, "taskwire-worker-heartbeat");
    r->hb_pub = notify_pub_new(cfg->redis_addr);
    r->loop_pub = notify_pub_new(cfg->redis_addr);
    r->slots = calloc((size_t)cfg->slots, sizeof(*r->slots));
    r->held = calloc((size_t)cfg->slots, sizeof(*r->held));
    const struct registry_cfg reg_cfg = {cfg->pg_dsn, cfg->worker_id, cfg->slots, cfg->lease_ms,
                                         cfg->sweep_ms};
    r->reg = registry_new(&reg_cfg, catalog);
    if (!r->store || !r->hb_store || !r->hb_pub || !r->loop_pub || !r->slots || !r->held ||
        !r->reg) {
        err_set(err, -RUNNER_ENOMEM, "out of memory");
        goto out_free;
    }
    if (start_slots(r, err) < 0)
        goto out_free;
    if (pthread_create(&r->hb_thread, NULL, heartbeat_main, r) != 0) {
        err_set(err, -RUNNER_ESTART, "cannot start the heartbeat thread");
        goto out_free;
    }
    r->events = notify_sub_start(cfg->redis_addr, on_event, r);
    return r;

out_free:
    runner_free(r);
    return NULL;
}

/* Stop every thread, close every connection and free; NULL is a no-op. */
void runner_free(struct runner *r)
{
    if (!r)
        return;
    notify_sub_stop(r->events);
    pthread_mutex_lock(&r->mu);
    r->quit = true;
    pthread_cond_signal(&r->hb_cv);
    for (int i = 0; r->slots && i < r->cfg.slots; i++)
        pthread_cond_broadcast(&r->slots[i].cv);
    pthread_mutex_unlock(&r->mu);
    if (r->hb_thread)
        pthread_join(r->hb_thread, NULL);
    for (int i = 0; r->slots && i < r->cfg.slots; i++) {
        struct slot *s = &r->slots[i];
        if (s->thread)
            pthread_join(s->thread, NULL);
        store_free(s->store);
        notify_pub_free(s->pub);
        pthread_cond_destroy(&s->cv);
        if (s->tool_ready)
            toolctx_state_fini(&s->tool);
    }
    registry_free(r->reg); /* after every slot: they count outcomes */
    free(r->slots);
    free(r->held);
    store_free(r->store);
    store_free(r->hb_store);
    notify_pub_free(r->hb_pub);
    notify_pub_free(r->loop_pub);
    fabric_free(r->fabric);
    pthread_cond_destroy(&r->free_cv);
    pthread_cond_destroy(&r->hb_cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
