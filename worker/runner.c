/*
 * runner.c - the worker runtime.
 *
 * Threads: the receive loop (runner_run), one thread per slot running tools,
 * one heartbeat thread writing leases and coalesced progress, and the Redis
 * subscriber delivering cancel events.  One mutex (r->mu) guards all slot
 * state; it is never held across a database or network call.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "runner.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "exttool.h"
#include "fabric.h"
#include "log.h"
#include "mcpdefs.h"
#include "metrics.h"
#include "notify.h"
#include "store.h"
#include "tools.h"
#include "utf8.h"

#define HEARTBEAT_TICK_MS 50
#define SWEEP_BATCH 100
#define RETRY_MS 500

enum slot_state { SLOT_IDLE, SLOT_ASSIGNED, SLOT_BUSY };

struct slot {
    struct runner *r;         /* owner */
    pthread_t thread;         /* runs tools */
    pthread_cond_t cv;        /* wakes the slot: assignment, cancel, shutdown */
    struct store *store;      /* this slot's PostgreSQL connection */
    struct notify_pub *pub;   /* this slot's change-event publisher */
    /* Everything below is guarded by r->mu. */
    enum slot_state state;    /* idle, assigned (job set) or busy (task claimed) */
    bool job_claimed;         /* job_row already claimed (idle poll) vs job_id to claim */
    char job_id[TASKID_LEN + 1]; /* task to claim (from an envelope) */
    struct task_row job_row;  /* claimed task (from the idle poll) */
    char task_id[TASKID_LEN + 1]; /* the task being run */
    int attempt;              /* its attempt */
    bool stop_tool;           /* cancelled, lease lost or shutting down */
    bool parked;              /* the task waits for input; the slot is free again */
    char retry[256];          /* non-empty: the tool asked to be retried, with this reason */
    bool release;             /* shutting down: give the task back */
    bool dirty;               /* progress changed since the last write */
    double progress, total;   /* last progress */
    char message[256];        /* last status message */
    int64_t last_write_ms;    /* last progress write (monotonic) */
    int64_t last_renew_ms;    /* last lease renewal (monotonic) */
};

struct runner {
    struct runner_cfg cfg;       /* settings (strings borrowed from main) */
    const struct catalog *catalog; /* tool definitions */
    struct fabric *fabric;       /* the PULL socket (worker/fabric.c) */
    struct store *store;         /* receive-loop connection: idle claims and sweeps */
    struct store *hb_store;      /* heartbeat thread's connection */
    struct notify_pub *hb_pub;   /* heartbeat thread's change-event publisher */
    struct notify_pub *loop_pub; /* receive loop's publisher (sweeper events) */
    struct notify_sub *events;   /* Redis cancel events */
    pthread_t hb_thread;         /* heartbeat thread */
    pthread_mutex_t mu;          /* guards the slots and the flags below */
    pthread_cond_t free_cv;      /* a slot became idle */
    struct slot *slots;          /* cfg.slots entries */
    int idle;                    /* slots in SLOT_IDLE */
    bool quit;                   /* threads must exit */
    bool draining;               /* shutting down: claimed jobs are given back */
    volatile sig_atomic_t stop_requested; /* set by runner_stop */
};

struct tool_ctx {
    struct slot *slot;           /* where the tool runs */
    const json_t *args;          /* arguments object */
    const struct task_row *row;  /* the claimed task */
    json_t *caps;                /* client capabilities at creation (owned) */
};

METRIC_DEFINE(m_busy, METRIC_GAUGE, "taskwire_worker_slots_busy", NULL, "Slots running a task");
METRIC_DEFINE(m_slots, METRIC_GAUGE, "taskwire_worker_slots", NULL, "Slots of this worker");
METRIC_DEFINE(m_done, METRIC_COUNTER, "taskwire_tasks_finished_total", "status=\"completed\"",
              "Task outcomes written by this worker");
METRIC_DEFINE(m_failed, METRIC_COUNTER, "taskwire_tasks_finished_total", "status=\"failed\"",
              "Task outcomes written by this worker");
METRIC_DEFINE(m_queue_depth, METRIC_GAUGE, "taskwire_queue_depth", NULL,
              "Tasks queued for a worker, cluster-wide (as of this worker's last sweep)");
METRIC_DEFINE(m_queue_age, METRIC_GAUGE, "taskwire_queue_oldest_age_seconds", NULL,
              "Age of the oldest queued task, cluster-wide");
METRIC_DEFINE(m_running, METRIC_GAUGE, "taskwire_tasks_running", NULL,
              "Tasks held by a worker, cluster-wide");
METRIC_DEFINE(m_retried, METRIC_COUNTER, "taskwire_tasks_retried_total", NULL,
              "Attempts that ended with a retryable failure and were queued again");
METRIC_DEFINE(m_stopped, METRIC_COUNTER, "taskwire_tasks_stopped_total", NULL,
              "Tools stopped because their task was cancelled or its lease lost");
METRIC_DEFINE(m_claim_miss, METRIC_COUNTER, "taskwire_claims_missed_total", NULL,
              "Envelopes whose task was no longer queued (duplicate, cancelled, claimed)");
METRIC_DEFINE(m_requeued, METRIC_COUNTER, "taskwire_leases_expired_total", "outcome=\"requeued\"",
              "Expired leases found by this worker's sweeper");
METRIC_DEFINE(m_lease_failed, METRIC_COUNTER, "taskwire_leases_expired_total",
              "outcome=\"failed\"", "Expired leases found by this worker's sweeper");

/* ---- the tool API, backed by the slot ---- */

const json_t *tool_args(const struct tool_ctx *ctx)
{
    return ctx->args;
}

const char *tool_task_id(const struct tool_ctx *ctx)
{
    return ctx->slot->task_id;
}

int tool_attempt(const struct tool_ctx *ctx)
{
    return ctx->row->attempt;
}

void tool_progress(struct tool_ctx *ctx, double progress, double total, const char *msg)
{
    struct slot *s = ctx->slot;
    pthread_mutex_lock(&s->r->mu);
    s->progress = progress;
    s->total = total;
    if (msg) /* cut on a character boundary: PostgreSQL refuses broken UTF-8 */
        utf8_copy(s->message, sizeof(s->message), msg);
    s->dirty = true;
    pthread_mutex_unlock(&s->r->mu);
}

bool tool_cancelled(struct tool_ctx *ctx)
{
    pthread_mutex_lock(&ctx->slot->r->mu);
    bool stop = ctx->slot->stop_tool;
    pthread_mutex_unlock(&ctx->slot->r->mu);
    return stop;
}

bool tool_sleep_ms(struct tool_ctx *ctx, int64_t ms)
{
    struct slot *s = ctx->slot;
    struct timespec until = clock_deadline_in(ms);
    pthread_mutex_lock(&s->r->mu);
    while (!s->stop_tool && pthread_cond_timedwait(&s->cv, &s->r->mu, &until) != ETIMEDOUT)
        ;
    bool stop = s->stop_tool;
    pthread_mutex_unlock(&s->r->mu);
    return !stop;
}

void tool_retry_later(struct tool_ctx *ctx, const char *message)
{
    pthread_mutex_lock(&ctx->slot->r->mu);
    snprintf(ctx->slot->retry, sizeof(ctx->slot->retry), "%s",
             message && *message ? message : "retryable failure");
    pthread_mutex_unlock(&ctx->slot->r->mu);
}

void tool_notify_tools_changed(struct tool_ctx *ctx)
{
    notify_publish(ctx->slot->pub, NOTIFY_TOOLS, ctx->row->id);
}

const json_t *tool_client_caps(const struct tool_ctx *ctx)
{
    return ctx->caps;
}

/* The answers stored for every key of 'requests', or NULL if one is missing. */
static json_t *answers_for(const json_t *requests, const char *responses_text)
{
    json_t *all = responses_text ? json_loads(responses_text, 0, NULL) : NULL;
    json_t *out = json_object();
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)requests, key, v)
    {
        json_t *answer = json_object_get(all, key);
        if (!answer) {
            json_decref(out);
            out = NULL;
            break;
        }
        json_object_set(out, key, answer);
    }
    json_decref(all);
    return out;
}

json_t *tool_request_input(struct tool_ctx *ctx, json_t *requests, const char *message,
                           json_t **error)
{
    struct slot *s = ctx->slot;
    struct runner *r = s->r;
    json_t *answers = NULL, *outstanding = NULL;
    const char *key;
    json_t *req;
    *error = NULL;
    json_object_foreach(requests, key, req)
    {
        const char *cap = mcp_capability_for_method(json_string_value(json_object_get(req, "method")));
        if (!cap || !json_is_object(json_object_get(ctx->caps, cap))) {
            *error = json_pack("{s:i, s:s, s:{s:{s:{}}}}", "code", MCP_ECAPABILITY, "message",
                               "Missing required client capability for an input request",
                               "data", "requiredCapabilities", cap ? cap : "elicitation");
            goto out_free;
        }
    }
    if ((answers = answers_for(requests, ctx->row->input_responses)))
        goto out_free;
    json_t *done = ctx->row->input_responses ? json_loads(ctx->row->input_responses, 0, NULL)
                                             : NULL;
    outstanding = json_object();
    json_object_foreach(requests, key, req)
    {
        if (!json_object_get(done, key))
            json_object_set(outstanding, key, req);
    }
    json_decref(done);
    char *text = json_dumps(outstanding, JSON_COMPACT);
    struct err e = {0};
    int rc = text ? store_task_request_input(s->store, ctx->row->id, r->cfg.worker_id,
                                             ctx->row->attempt, text, message, &e)
                  : -STORE_EINTERNAL;
    free(text);
    pthread_mutex_lock(&r->mu);
    if (rc == 0)
        s->parked = true;
    else /* nothing is written: cancelled, or the lease expires and the task runs again */
        s->stop_tool = true;
    pthread_mutex_unlock(&r->mu);
    if (rc == 0)
        notify_publish(s->pub, NOTIFY_CHANGED, ctx->row->id);
    else
        LOG_INFO("cannot wait for input now; the task will run again unless cancelled",
                 "task_id", ctx->row->id, "error", e.msg);
out_free:
    json_decref(outstanding);
    json_decref(requests);
    return answers;
}

/* ---- running one task on a slot ---- */

/* Store the outcome; retried while PostgreSQL is unreachable, up to one lease. */
static void finish(struct slot *s, const struct task_row *row, enum task_status status,
                   const char *json)
{
    struct err e = {0};
    int64_t give_up = clock_now_ms() + s->r->cfg.lease_ms;
    pthread_mutex_lock(&s->r->mu);
    double progress = s->dirty ? s->progress : -1, total = s->total;
    pthread_mutex_unlock(&s->r->mu);
    int rc;
    while ((rc = store_task_finish(s->store, row->id, s->r->cfg.worker_id, row->attempt, status,
                                   json, status == TASK_COMPLETED ? "completed" : "failed",
                                   progress, total, &e)) == -STORE_EUNAVAILABLE &&
           clock_now_ms() < give_up)
        clock_sleep_ms(RETRY_MS);
    if (rc == 0) {
        notify_publish(s->pub, NOTIFY_CHANGED, row->id);
        metrics_add(status == TASK_COMPLETED ? &m_done : &m_failed, 1);
        LOG_INFO("task finished", "task_id", row->id, "status", taskstate_name(status));
    } else if (rc == -STORE_ELOST) {
        LOG_INFO("result discarded: task cancelled or lease lost", "task_id", row->id);
    } else {
        LOG_ERROR("cannot store result; the lease will expire and the task be retried",
                  "task_id", row->id, "error", e.msg);
    }
}

static void run_task(struct slot *s, const struct task_row *row)
{
    const struct tool_desc *desc = catalog_find(s->r->catalog, row->tool);
    const struct tool_impl *impl = tools_find(row->tool);
    json_t *args = json_loads(row->args, 0, NULL);
    json_t *result = NULL, *error = NULL;
    struct tool_ctx ctx = {s, args, row,
                           row->client_caps ? json_loads(row->client_caps, 0, NULL) : NULL};

    LOG_INFO("task started", "task_id", row->id, "tool", row->tool, "worker",
             s->r->cfg.worker_id);
    if (!args)
        error = json_pack("{s:i, s:s}", "code", MCP_EINTERNAL, "message", "stored arguments are not JSON");
    else if (desc && desc->exec)
        result = exttool_run(&ctx, desc->exec, &error);
    else if (impl)
        result = impl->run(&ctx, &error);
    else
        error = json_pack("{s:i, s:s}", "code", MCP_EINTERNAL, "message",
                          "tool not available on this worker");

    pthread_mutex_lock(&s->r->mu);
    bool stopped = s->stop_tool, release = s->release, parked = s->parked;
    char retry[sizeof(s->retry)];
    memcpy(retry, s->retry, sizeof(retry));
    pthread_mutex_unlock(&s->r->mu);

    if (retry[0] && !stopped) {
        bool failed = false;
        struct err e = {0};
        if (store_task_retry(s->store, row->id, s->r->cfg.worker_id, row->attempt, retry, &failed,
                             &e) == 0) {
            notify_publish(s->pub, NOTIFY_CHANGED, row->id);
            metrics_add(failed ? &m_failed : &m_retried, 1);
            LOG_INFO(failed ? "task failed: no attempts left" : "task will be retried",
                     "task_id", row->id, "reason", retry);
        }
    } else if (parked) {
        LOG_INFO("task waits for input; slot released", "task_id", row->id);
    } else if (release && !result) {
        /* Shutdown stopped the tool (its error, if any, is an artefact of that). */
        struct err e = {0};
        if (store_task_release(s->store, row->id, s->r->cfg.worker_id, row->attempt, &e) == 0)
            LOG_INFO("task released for another worker (shutdown)", "task_id", row->id);
    } else if (stopped && !release && !result) {
        metrics_add(&m_stopped, 1);
        LOG_INFO("tool stopped: task cancelled or lease lost", "task_id", row->id);
    } else {
        /* A result (even one that raced a cancel or the end of the grace period) is
         * offered: the conditional write keeps it only if the task is still ours. */
        json_t *out = result ? result : error;
        if (!out)
            out = error = json_pack("{s:i, s:s}", "code", MCP_EINTERNAL, "message",
                                    "tool returned neither a result nor an error");
        char *text = json_dumps(out, JSON_COMPACT);
        if (text)
            finish(s, row, result ? TASK_COMPLETED : TASK_FAILED, text);
        free(text);
    }
    json_decref(result);
    json_decref(error);
    json_decref(args);
    json_decref(ctx.caps);
}

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
        struct task_row row = s->job_row;
        memset(&s->job_row, 0, sizeof(s->job_row));
        bool claimed = s->job_claimed;
        char id[TASKID_LEN + 1];
        memcpy(id, s->job_id, sizeof(id));
        pthread_mutex_unlock(&r->mu);

        int rc = 0;
        struct err e = {0};
        if (!claimed) {
            rc = store_task_claim(s->store, id, r->cfg.worker_id, r->cfg.lease_ms, &row, &e);
            if (rc == -STORE_ENOTFOUND)
                metrics_add(&m_claim_miss, 1);
            else if (rc < 0)
                LOG_WARN("claim failed", "task_id", id, "error", e.msg);
        }
        pthread_mutex_lock(&r->mu);
        bool draining = r->draining;
        pthread_mutex_unlock(&r->mu);
        if (rc == 0 && draining) {
            /* Claimed while the worker shuts down: give it straight back. */
            if (store_task_release(s->store, row.id, r->cfg.worker_id, row.attempt, NULL) == 0)
                LOG_INFO("task released for another worker (shutdown)", "task_id", row.id);
        } else if (rc == 0) {
            pthread_mutex_lock(&r->mu);
            s->state = SLOT_BUSY;
            memcpy(s->task_id, row.id, sizeof(s->task_id));
            s->attempt = row.attempt;
            s->stop_tool = s->release = s->dirty = s->parked = false;
            s->retry[0] = '\0';
            s->message[0] = '\0';
            s->last_write_ms = s->last_renew_ms = clock_now_ms();
            pthread_mutex_unlock(&r->mu);
            run_task(s, &row);
        }
        task_row_fini(&row);

        pthread_mutex_lock(&r->mu);
        s->state = SLOT_IDLE;
        s->task_id[0] = '\0';
        r->idle++;
        metrics_set(&m_busy, r->cfg.slots - r->idle);
        pthread_cond_broadcast(&r->free_cv);
    }
    pthread_mutex_unlock(&r->mu);
    return NULL;
}

/* Hand a job to an idle slot; the caller saw r->idle > 0.  Takes ownership of *row. */
static void assign(struct runner *r, const char *id, struct task_row *row)
{
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->cfg.slots; i++) {
        struct slot *s = &r->slots[i];
        if (s->state != SLOT_IDLE)
            continue;
        s->state = SLOT_ASSIGNED;
        s->job_claimed = row != NULL;
        if (row)
            s->job_row = *row;
        else
            snprintf(s->job_id, sizeof(s->job_id), "%s", id);
        r->idle--;
        metrics_set(&m_busy, r->cfg.slots - r->idle);
        pthread_cond_signal(&s->cv);
        break;
    }
    pthread_mutex_unlock(&r->mu);
}

/* Stop the tool of the slot running 'task_id' (any attempt when attempt < 0). */
static void stop_task(struct runner *r, const char *task_id, int attempt)
{
    pthread_mutex_lock(&r->mu);
    for (int i = 0; i < r->cfg.slots; i++) {
        struct slot *s = &r->slots[i];
        if (s->state == SLOT_BUSY && strcmp(s->task_id, task_id) == 0 &&
            (attempt < 0 || s->attempt == attempt)) {
            s->stop_tool = true;
            pthread_cond_broadcast(&s->cv);
        }
    }
    pthread_mutex_unlock(&r->mu);
}

static void on_event(void *arg, const char *kind, const char *task_id)
{
    if (strcmp(kind, NOTIFY_CANCEL) == 0)
        stop_task(arg, task_id, -1);
}

/* ---- heartbeats ---- */

struct beat {
    char id[TASKID_LEN + 1]; /* task */
    int attempt;             /* its attempt */
    bool with_progress;      /* write progress and message too */
    double progress, total;  /* snapshot */
    char message[256];       /* snapshot */
};

static void *heartbeat_main(void *arg)
{
    struct runner *r = arg;
    struct beat *beats = calloc((size_t)r->cfg.slots, sizeof(*beats));
    if (!beats)
        return NULL;
    pthread_mutex_lock(&r->mu);
    while (!r->quit) {
        int n = 0;
        int64_t now = clock_now_ms();
        for (int i = 0; i < r->cfg.slots; i++) {
            struct slot *s = &r->slots[i];
            if (s->state != SLOT_BUSY || s->stop_tool || s->parked)
                continue;
            bool progress = s->dirty && now - s->last_write_ms >= r->cfg.progress_ms;
            if (!progress && now - s->last_renew_ms < r->cfg.lease_ms / 3)
                continue;
            struct beat *b = &beats[n++];
            memcpy(b->id, s->task_id, sizeof(b->id));
            b->attempt = s->attempt;
            b->with_progress = progress;
            b->progress = s->progress;
            b->total = s->total;
            memcpy(b->message, s->message, sizeof(b->message));
            s->last_renew_ms = now;
            if (progress) {
                s->last_write_ms = now;
                s->dirty = false;
            }
        }
        pthread_mutex_unlock(&r->mu);
        for (int i = 0; i < n; i++) {
            struct beat *b = &beats[i];
            struct err e = {0};
            int rc = store_task_heartbeat(r->hb_store, b->id, r->cfg.worker_id, b->attempt,
                                          r->cfg.lease_ms,
                                          b->with_progress && b->message[0] ? b->message : NULL,
                                          b->with_progress ? b->progress : -1, b->total, &e);
            if (rc == 0 && b->with_progress)
                notify_publish(r->hb_pub, NOTIFY_CHANGED, b->id);
            if (rc == -STORE_ELOST)
                stop_task(r, b->id, b->attempt);
            else if (rc < 0)
                LOG_WARN("heartbeat failed", "task_id", b->id, "error", e.msg);
        }
        clock_sleep_ms(HEARTBEAT_TICK_MS);
        pthread_mutex_lock(&r->mu);
    }
    pthread_mutex_unlock(&r->mu);
    free(beats);
    return NULL;
}

/* ---- receive loop ---- */

static void publish_changed(void *arg, const char *task_id)
{
    struct runner *r = arg;
    notify_publish(r->loop_pub, NOTIFY_CHANGED, task_id);
}

static void sweep(struct runner *r)
{
    struct sweep_counts c;
    struct err e = {0};
    if (store_sweep(r->store, SWEEP_BATCH, r->cfg.lease_ms, &c, publish_changed, r, &e) < 0) {
        LOG_DEBUG("sweep skipped", "error", e.msg);
        return;
    }
    metrics_set(&m_queue_depth, c.queued);
    metrics_set(&m_queue_age, (int64_t)c.oldest_queued_s);
    metrics_set(&m_running, c.running);
    metrics_add(&m_requeued, c.requeued);
    metrics_add(&m_lease_failed, c.failed);
    if (c.requeued || c.failed || c.expired) {
        char a[16], b[16], d[16];
        snprintf(a, sizeof(a), "%d", c.requeued);
        snprintf(b, sizeof(b), "%d", c.failed);
        snprintf(d, sizeof(d), "%d", c.expired);
        LOG_INFO("sweeper", "requeued", a, "failed", b, "expired", d);
    }
}

/*
 * The receive loop: take work only while a slot is free, from the fabric
 * first and from PostgreSQL when the fabric is quiet; sweep periodically.
 * Returns after runner_stop(), once running tasks finished or were released.
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
            sweep(r);
            next_sweep = now + r->cfg.sweep_ms;
        }
        pthread_mutex_lock(&r->mu);
        if (r->idle == 0) {
            struct timespec until = clock_deadline_in(100);
            pthread_cond_timedwait(&r->free_cv, &r->mu, &until);
            pthread_mutex_unlock(&r->mu);
            continue;
        }
        pthread_mutex_unlock(&r->mu);
        /* PostgreSQL is asked every idle-poll-ms whatever the fabric is doing: a
         * busy fabric must not starve a requeued task that no one will push. */
        if (clock_now_ms() < next_idle_poll) {
            char id[TASKID_LEN + 1];
            if (fabric_receive(r->fabric, 100, id))
                assign(r, id, NULL);
            continue;
        }
        next_idle_poll = clock_now_ms() + r->cfg.idle_poll_ms;
        struct task_row row;
        if (store_task_claim_next(r->store, r->cfg.worker_id, r->cfg.lease_ms, &row, NULL) == 0) {
            assign(r, NULL, &row);
            next_idle_poll = 0; /* there may be more */
        }
    }

    /* Shutdown: stop receiving, let tasks finish within the grace period,
     * then give the rest back without counting an attempt. */
    fabric_close(r->fabric);
    LOG_INFO("stopping: no longer receiving; waiting for running tasks");
    struct timespec until = clock_deadline_in(r->cfg.grace_ms);
    pthread_mutex_lock(&r->mu);
    r->draining = true;
    while (r->idle < r->cfg.slots &&
           pthread_cond_timedwait(&r->free_cv, &r->mu, &until) != ETIMEDOUT)
        ;
    for (int i = 0; i < r->cfg.slots; i++) {
        struct slot *s = &r->slots[i];
        if (s->state == SLOT_BUSY) {
            s->release = s->stop_tool = true;
            pthread_cond_broadcast(&s->cv);
        }
    }
    while (r->idle < r->cfg.slots)
        pthread_cond_wait(&r->free_cv, &r->mu);
    pthread_mutex_unlock(&r->mu);
}

void runner_stop(struct runner *r)
{
    r->stop_requested = 1;
}

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

/*
 * Create the runner: the fabric socket, connections (opened lazily), slot and
 * heartbeat threads, the Redis subscriber.  Strings in 'cfg' are borrowed
 * and must outlive the runner.  NULL with 'err' set on failure.
 */
struct runner *runner_new(const struct runner_cfg *cfg, const struct catalog *catalog,
                          struct err *err)
{
    struct runner *r = calloc(1, sizeof(*r));
    if (!r) {
        err_set(err, -1, "out of memory");
        return NULL;
    }
    r->cfg = *cfg;
    r->catalog = catalog;
    pthread_mutex_init(&r->mu, NULL);
    clock_cond_init(&r->free_cv);
    metrics_register(&m_busy);
    metrics_register(&m_slots);
    metrics_register(&m_done);
    metrics_register(&m_failed);
    metrics_register(&m_stopped);
    metrics_register(&m_retried);
    metrics_register(&m_queue_depth);
    metrics_register(&m_queue_age);
    metrics_register(&m_running);
    metrics_register(&m_claim_miss);
    metrics_register(&m_requeued);
    metrics_register(&m_lease_failed);
    metrics_set(&m_slots, cfg->slots);
    if (!(r->fabric = fabric_new(cfg->fabric_connect, err)))
        goto out_free;
    r->store = store_new(cfg->pg_dsn, "taskwire-worker");
    r->hb_store = store_new(cfg->pg_dsn, "taskwire-worker-heartbeat");
    r->hb_pub = notify_pub_new(cfg->redis_addr);
    r->loop_pub = notify_pub_new(cfg->redis_addr);
    r->slots = calloc((size_t)cfg->slots, sizeof(*r->slots));
    if (!r->store || !r->hb_store || !r->hb_pub || !r->loop_pub || !r->slots) {
        err_set(err, -1, "out of memory");
        goto out_free;
    }
    for (int i = 0; i < cfg->slots; i++) {
        struct slot *s = &r->slots[i];
        s->r = r;
        clock_cond_init(&s->cv);
        if (!(s->store = store_new(cfg->pg_dsn, "taskwire-worker-slot")) ||
            !(s->pub = notify_pub_new(cfg->redis_addr)) ||
            pthread_create(&s->thread, NULL, slot_main, s) != 0) {
            err_set(err, -1, "cannot start slot %d", i);
            goto out_free;
        }
        r->idle++;
    }
    if (pthread_create(&r->hb_thread, NULL, heartbeat_main, r) != 0) {
        err_set(err, -1, "cannot start the heartbeat thread");
        goto out_free;
    }
    r->events = notify_sub_start(cfg->redis_addr, on_event, r);
    return r;

out_free:
    runner_free(r);
    return NULL;
}

void runner_free(struct runner *r)
{
    if (!r)
        return;
    notify_sub_stop(r->events);
    pthread_mutex_lock(&r->mu);
    r->quit = true;
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
        task_row_fini(&s->job_row);
        pthread_cond_destroy(&s->cv);
    }
    free(r->slots);
    store_free(r->store);
    store_free(r->hb_store);
    notify_pub_free(r->hb_pub);
    notify_pub_free(r->loop_pub);
    fabric_free(r->fabric);
    pthread_cond_destroy(&r->free_cv);
    pthread_mutex_destroy(&r->mu);
    free(r);
}
