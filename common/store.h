/*
 * store.h - the task store: every read and write of the tasks table.
 *
 * PostgreSQL is the single source of truth.  Each struct store owns one
 * libpq connection, opened on first use, and is used by one thread at a
 * time.  Every worker write is conditional on the worker still owning the
 * task (worker id + attempt + status), so a lost lease or a cancel turns the
 * write into -STORE_ELOST instead of a second outcome.  A statement that
 * finds its connection dropped is sent once more on a new connection; while
 * PostgreSQL is down calls return -STORE_EUNAVAILABLE and the next call tries
 * again.  Failures are classified by SQLSTATE.  Rows come back as struct
 * task_row whose strings the caller owns (task_row_fini()).  Tests replace
 * libpq through store_seam.h.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_STORE_H
#define TASKWIRE_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "taskid.h"
#include "taskstate.h"

enum store_error {
    STORE_ENOTFOUND = 1, /* no such task for this owner, or expired */
    STORE_ELOST,         /* conditional write matched nothing: cancelled or lease lost */
    STORE_EUNAVAILABLE,  /* PostgreSQL unreachable or restarting (SQLSTATE 08, 57P, none) */
    STORE_EINVALID,      /* the database refused the values (SQLSTATE 22, 23: bad JSON...) */
    STORE_EINTERNAL,     /* anything else; err has the first line of PostgreSQL's message */
    STORE_ELIMIT,        /* the owner has task_new.max_live live tasks already */
};

#define STORE_TS_LEN 24 /* "2026-11-22T00:47:48.123Z" */
#define STORE_IDS_MAX 1000 /* most ids one store_task_ids() call returns */
#define STORE_LOG_KEEP 64 /* log messages kept per task (the oldest go first) */
#define STORE_LIST_MAX 100 /* most tasks one store_task_list() returns */

/* One task as read from the table.  Strings are owned; release with task_row_fini(). */
struct task_row {
    char id[TASKID_LEN + 1];           /* canonical UUID text */
    enum task_status status;           /* internal status */
    char *owner;                       /* principal that created it */
    char *tool;                        /* tool name */
    char *args;                        /* arguments, JSON text */
    char *status_message;              /* may be NULL */
    bool has_progress;                 /* progress/progress_total are set */
    double progress, progress_total;   /* last progress report (total 0 = unknown) */
    char *result;                      /* CallToolResult JSON text when completed, else NULL */
    char *error;                       /* JSON-RPC error object JSON text when failed, else NULL */
    char *input_requests;              /* outstanding inputRequests JSON text, or NULL */
    char *input_responses;             /* answers received so far, JSON text, or NULL */
    int attempt;                       /* claims so far */
    char claim[TASKID_LEN + 1];        /* token of the current claim (a UUID), "" when none:
                                          every worker write must present it */
    int max_attempts;                  /* claims allowed before the sweeper fails it */
    char *worker_id;                   /* current owner worker, or NULL */
    char *trace;                       /* W3C traceparent of the creating request, or NULL */
    char created_at[STORE_TS_LEN + 1]; /* ISO 8601 UTC, from PostgreSQL's clock */
    char updated_at[STORE_TS_LEN + 1]; /* ISO 8601 UTC */
    int64_t ttl_ms;                    /* lifetime from created_at */
    int64_t poll_interval_ms;          /* suggested tasks/get interval */
    char *client_caps;                 /* capabilities the creating request declared (JSON) */
    char *log;                         /* the last STORE_LOG_KEEP log messages (JSON array,
                                          oldest first), or NULL when the tool logged nothing */
    int64_t log_seq;                   /* messages ever logged: the last kept one's number */
    int64_t created_us;                /* created_at in Unix microseconds (list position) */
};

/* What a frontend supplies to create a task. */
struct task_new {
    const char *id;           /* from taskid_new() */
    const char *owner;        /* principal */
    const char *tool;         /* tool name, already validated */
    const char *args;         /* JSON text of the arguments object */
    const char *trace;        /* may be NULL */
    int64_t ttl_ms;           /* > 0 */
    int64_t poll_interval_ms; /* > 0 */
    int max_attempts;         /* >= 1 */
    const char *client_caps;  /* JSON text of the request's clientCapabilities, or NULL */
    const char *input_responses; /* answers the request already carried (JSON), or NULL */
    int max_live;             /* refused while the owner has this many live tasks; 0 = no cap */
};

/* Counts returned by one sweeper pass. */
struct sweep_counts {
    int requeued;  /* running tasks whose lease expired, back to queued */
    int failed;    /* expired leases at max attempts, failed */
    int expired;   /* rows past their TTL, deleted */
    int64_t queued;         /* tasks waiting for a worker */
    double oldest_queued_s; /* age of the oldest of them, seconds */
    int64_t running;        /* tasks held by a worker */
};

/* Live tasks of one tool, as store_tool_stats() reads them. */
struct tool_stats {
    const char *tool;       /* tool name (borrowed for the duration of the call) */
    int64_t queued;         /* waiting for a worker */
    double oldest_queued_s; /* age of the oldest of them, seconds (0 when none) */
    int64_t running;        /* held by a worker */
    int64_t input_required; /* parked, waiting for the client's input */
};

/* Told the live tasks of one tool (store_tool_stats). */
typedef void store_tool_stats_fn(void *arg, const struct tool_stats *s);

struct store;

/* Told the id of a task a sweep changed (requeued or failed). */
typedef void store_changed_fn(void *arg, const char *task_id);

/* Relaxed mode: commit without waiting for the WAL flush on stores connected from now on
 * (a PostgreSQL crash may lose the last acknowledged writes).  Before threads start. */
void store_set_relaxed_commit(bool on);

/* A store for 'dsn' (libpq conninfo, "" = PG* variables).  Connects lazily; NULL only
 * when out of memory.  Release with store_free(). */
struct store *store_new(const char *dsn, const char *app_name);
/* Register the PostgreSQL connection and error counters.  Call once, at start-up. */
void store_metrics_register(void);
/* Close and free; NULL is a no-op. */
void store_free(struct store *st);
/* True when a trivial query succeeds now (for /readyz). */
bool store_ping(struct store *st);

/* Insert a queued task and fill *out (caller owns it); the row is committed on return.
 * An id that already exists (a retry after a lost connection) is read back instead;
 * -STORE_ELIMIT when the owner has t->max_live live tasks already. */
MUST_CHECK int store_task_create(struct store *st, const struct task_new *t, struct task_row *out,
                                 struct err *err);
/* store_task_create() of each of t[0..n), in one statement and one commit where it can:
 * rcs[i], out[i] (when rcs[i] is 0) and errs[i] (when rcs[i] < 0; errs may be NULL)
 * are what that call would give. */
void store_task_create_many(struct store *st, const struct task_new *t, int n,
                            struct task_row *out, int *rcs, struct err *errs);
/* Read a task visible to 'owner' (owner NULL = any, for workers and tests) into *out
 * (caller owns it); a foreign task reads as -STORE_ENOTFOUND. */
MUST_CHECK int store_task_get(struct store *st, const char *id, const char *owner,
                              struct task_row *out, struct err *err);
/* store_task_get() of what tasks/get and listen streams answer with: args,
 * input_responses, client_caps and log read as NULL (a poll's cost does not grow
 * with them). */
MUST_CHECK int store_task_get_brief(struct store *st, const char *id, const char *owner,
                                    struct task_row *out, struct err *err);
/* Ids of the visible tasks of 'owner' that start with 'prefix' ("" = any), newest
 * first: at most 'max' (1..STORE_IDS_MAX) into ids[0..*count). */
MUST_CHECK int store_task_ids(struct store *st, const char *owner, const char *prefix, int max,
                              char (*ids)[TASKID_LEN + 1], int *count, struct err *err);
/* Cancel a non-terminal task of 'owner'.  0 also when it was already terminal
 * (idempotent); *changed tells whether this call cancelled it. */
MUST_CHECK int store_task_cancel(struct store *st, const char *id, const char *owner,
                                 bool *changed, struct err *err);

/* Claim task 'id' (queued -> running) for 'worker' into *out (caller owns it) unless its
 * owner runs max_running tasks already (0 = no cap); -STORE_ENOTFOUND when not claimable.
 * Every claim gets a new out->claim token, which the worker writes below must present
 * (with 'worker'): a write of an earlier claim is -STORE_ELOST. */
MUST_CHECK int store_task_claim(struct store *st, const char *id, const char *worker,
                                int64_t lease_ms, int max_running, struct task_row *out,
                                struct err *err);
/* Claim the fairest queued task of an owner running fewer than max_running (0 = no cap);
 * -STORE_ENOTFOUND when none is claimable. */
MUST_CHECK int store_task_claim_next(struct store *st, const char *worker, int64_t lease_ms,
                                     int max_running, struct task_row *out, struct err *err);
/* Renew the lease and record progress (NULL message / negative progress = unchanged)
 * and log messages to append (a JSON array, or NULL). */
MUST_CHECK int store_task_heartbeat(struct store *st, const char *id, const char *worker,
                                    const char *claim, int64_t lease_ms, const char *status_message,
                                    double progress, double total, const char *log,
                                    struct err *err);
/* Finish: TASK_COMPLETED with result JSON, or TASK_FAILED with error JSON, plus the
 * last progress (negative = unchanged) and log messages to append (or NULL). */
MUST_CHECK int store_task_finish(struct store *st, const char *id, const char *worker,
                                 const char *claim, enum task_status status, const char *json,
                                 const char *status_message, double progress, double total,
                                 const char *log, struct err *err);
/* The arguments of store_task_finish(), as one value. */
struct task_outcome {
    const char *id, *worker, *claim; /* the task and the run it belongs to */
    enum task_status status;         /* TASK_COMPLETED or TASK_FAILED */
    const char *json;                /* the CallToolResult or the JSON-RPC error */
    const char *status_message;      /* or NULL: unchanged */
    double progress, total;          /* the last progress (negative: unchanged) */
    const char *log;                 /* log messages to append (JSON array), or NULL */
};
/* store_task_finish() of 'o' and store_task_claim() of pushed task 'next' for
 * o->worker, in one statement and one commit.  Returns what the finish
 * returns (-STORE_EUNAVAILABLE and the like: neither was written); *claimed
 * tells, whatever the finish found, whether 'next' was claimed into *out
 * (caller owns it). */
MUST_CHECK int store_task_finish_claim(struct store *st, const struct task_outcome *o,
                                       const char *next, int64_t lease_ms, int max_running,
                                       struct task_row *out, bool *claimed, struct err *err);
/* Park a running task in input_required with the outstanding inputRequests (JSON
 * text), releasing it from this worker until the answers arrive. */
MUST_CHECK int store_task_request_input(struct store *st, const char *id, const char *worker,
                                        const char *claim, const char *requests,
                                        const char *status_message, struct err *err);
/* Store answers of 'owner' for outstanding keys; *resumed (queued again) when none is
 * left, with the task's *attempt (for its job envelope). */
MUST_CHECK int store_task_answer(struct store *st, const char *id, const char *owner,
                                 const char *responses, bool *resumed, int *attempt,
                                 struct err *err);
/* End the input round of a task of 'owner' waiting for input with the CallToolResult
 * 'result' (JSON): the client refused a request.  -STORE_ENOTFOUND when not waiting. */
MUST_CHECK int store_task_end_input(struct store *st, const char *id, const char *owner,
                                    const char *result, struct err *err);
/* Up to 'max' (at most STORE_LIST_MAX) visible tasks of 'owner' after position
 * (after_us, after_id) in (created_at, id) order (after_id NULL: from the start): on
 * success *rows is a new array of *count rows (free each with task_row_fini(), then
 * the array). */
MUST_CHECK int store_task_list(struct store *st, const char *owner, int64_t after_us,
                               const char *after_id, int max, struct task_row **rows, int *count,
                               struct err *err);
/* A retryable failure: re-queue after a backoff, or fail at the last attempt. */
MUST_CHECK int store_task_retry(struct store *st, const char *id, const char *worker,
                                const char *claim, const char *message, bool *failed,
                                struct err *err);
/* Queued tasks not claimed within after_ms of their last push, to push again: on success
 * *rows is a new array of *count rows (id, tool, owner, attempt, trace only) the caller
 * frees with task_row_fini() on each and free(); on failure *rows is NULL. */
MUST_CHECK int store_redispatch(struct store *st, int64_t after_ms, int max,
                                struct task_row **rows, int *count, struct err *err);
/* Give a running task back to the queue without counting the attempt. */
MUST_CHECK int store_task_release(struct store *st, const char *id, const char *worker,
                                  const char *claim, struct err *err);
/* The cluster's per-tool statistics, read by one process at a time: *leader tells
 * whether this store's session holds the statistics lock (kept until its connection
 * ends); only then is 'each' called, once per tool with live tasks.  0 or -STORE_*. */
MUST_CHECK int store_tool_stats(struct store *st, bool *leader, store_tool_stats_fn *each,
                                void *arg, struct err *err);
/* One sweeper pass: requeue or fail expired leases (not before the database has been
 * up for lease_ms), delete expired rows (batched), read the queue's size. */
MUST_CHECK int store_sweep(struct store *st, int batch, int64_t lease_ms,
                           struct sweep_counts *out, store_changed_fn *changed, void *arg,
                           struct err *err);

/* Release the strings of a row; safe on a zeroed row. */
void task_row_fini(struct task_row *row);

#endif
