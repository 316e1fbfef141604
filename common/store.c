/*
 * store.c - the task store's statements and calls.
 *
 * All SQL lives here (the select lists come from the column lists of
 * store_row.h), as prepared statements created once per connection by
 * store_conn.c.  Every write is one statement (one commit); worker writes
 * are conditional on (worker_id, attempt, status) so a stale worker can
 * never overwrite an outcome.  Timestamps come from PostgreSQL's clock,
 * never from ours.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "store.h"
#include "store_seam.h"

#include <stdlib.h>
#include <string.h>

#include "mcpdefs.h"
#include "store_conn.h"
#include "store_row.h"

/* A task is visible while it is live, and until its expiry once it is not. */
#define VISIBLE "(expires_at > now() OR status IN ('queued', 'running'))"
/* On an outcome, results are kept ttl_ms from now (never less than promised at creation). */
#define KEEP "expires_at = greatest(expires_at, now() + ttl_ms * interval '1 millisecond')"
#define ROW_COLS STORE_TASK_SQL
#define STORE_IDS_SCAN "1000" /* rows of one owner's id range store_task_ids() looks at */
#define OWNED                                                                                     \
    "id = $1::uuid AND worker_id = $2 AND attempt = $3::int"                                     \
    " AND status IN ('running', 'input_required')"
#define LEASE(p) "now() + (" p "::bigint * interval '1 millisecond')"
#define SQL_NUM(x) SQL_NUM_(x)
#define SQL_NUM_(x) #x
/* Append the log messages of JSON array parameter p, keeping the last STORE_LOG_KEEP;
 * log_seq counts every message ever appended. */
#define LOG_APPEND(p)                                                                             \
    " log_seq = log_seq + coalesce(jsonb_array_length(" p "::jsonb), 0),"                         \
    " log = CASE WHEN " p "::jsonb IS NULL THEN log ELSE (SELECT jsonb_agg(e ORDER BY i) FROM"    \
    " jsonb_array_elements(coalesce(log, '[]') || " p "::jsonb) WITH ORDINALITY a(e, i)"          \
    " WHERE i > jsonb_array_length(coalesce(log, '[]') || " p "::jsonb) - "                       \
    SQL_NUM(STORE_LOG_KEEP) ") END,"
/* Retry delay after attempt n: 1 s * 2^(n-1), at most 5 min, with +-25 % jitter. */
#define BACKOFF(n)                                                                                \
    "now() + least(300000, 1000 * power(2, greatest(" n " - 1, 0))) * (0.75 + random() * 0.5)"    \
    " * interval '1 millisecond'"

enum stmt {
    S_CREATE,
    S_GET,
    S_CANCEL,
    S_CLAIM,
    S_CLAIM_NEXT,
    S_HEARTBEAT,
    S_FINISH,
    S_RELEASE,
    S_SWEEP_LEASES,
    S_SWEEP_EXPIRED,
    S_REQUEST_INPUT,
    S_ANSWER,
    S_RETRY,
    S_REDISPATCH,
    S_QUEUE_STATS,
    S_RECENT_IDS,
    S_PREFIX_IDS,
    S_END_INPUT,
    S_LIST,
    S_COUNT
};

static const struct store_stmt stmts[S_COUNT] = {
    [S_CREATE] = {STORE_STMT_CREATE,
                  "INSERT INTO tasks (id, owner, tool, args, trace, ttl_ms, poll_interval_ms,"
                  " max_attempts, client_caps, input_responses, expires_at) VALUES ($1::uuid,"
                  " $2, $3, $4::jsonb, $5, $6::bigint, $7::int, $8::int,"
                  " coalesce($9::jsonb, '{}'), $10::jsonb, " LEASE("$6") ") RETURNING " ROW_COLS},
    [S_GET] = {STORE_STMT_GET, "SELECT " ROW_COLS " FROM tasks WHERE id = $1::uuid"
                         " AND ($2::text IS NULL OR owner = $2) AND " VISIBLE},
    [S_CANCEL] = {STORE_STMT_CANCEL,
                  "UPDATE tasks SET status = 'cancelled', status_message = 'cancelled by client',"
                  " worker_id = NULL, lease_until = NULL, input_requests = NULL,"
                  " updated_at = now(), " KEEP " WHERE id = $1::uuid AND owner = $2 AND " VISIBLE
                  " AND status IN ('queued', 'running', 'input_required') RETURNING id"},
    [S_CLAIM] = {STORE_STMT_CLAIM,
                 "UPDATE tasks SET status = 'running', worker_id = $2, attempt = attempt + 1,"
                 " lease_until = " LEASE("$3") ", updated_at = now() WHERE id = $1::uuid"
                 " AND status = 'queued' AND not_before <= now()"
                 " RETURNING " ROW_COLS},
    [S_CLAIM_NEXT] = {STORE_STMT_CLAIM_NEXT,
                      "UPDATE tasks SET status = 'running', worker_id = $1, attempt = attempt + 1,"
                      " lease_until = " LEASE("$2") ", updated_at = now() WHERE id = ("
                      "SELECT id FROM tasks WHERE status = 'queued' AND not_before <= now()"
                      " ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED)"
                      " RETURNING " ROW_COLS},
    [S_HEARTBEAT] = {STORE_STMT_HEARTBEAT,
                     "UPDATE tasks SET lease_until = " LEASE("$4") ","
                     " status_message = coalesce($5, status_message),"
                     " progress = coalesce($6::float8, progress),"
                     " progress_total = coalesce($7::float8, progress_total)," LOG_APPEND("$8")
                     " updated_at = CASE WHEN $5 IS NULL AND $6::float8 IS NULL"
                     " AND $8::jsonb IS NULL THEN updated_at ELSE now() END WHERE " OWNED},
    [S_FINISH] = {STORE_STMT_FINISH,
                  "UPDATE tasks SET status = $4, result = $5::jsonb, error = $6::jsonb,"
                  " status_message = coalesce($7, status_message), lease_until = NULL,"
                  " progress = coalesce($8::float8, progress),"
                  " progress_total = coalesce($9::float8, progress_total)," LOG_APPEND("$10")
                  " updated_at = now(), " KEEP " WHERE " OWNED},
    [S_RELEASE] = {STORE_STMT_RELEASE,
                   "UPDATE tasks SET status = 'queued', worker_id = NULL, lease_until = NULL,"
                   " attempt = attempt - 1, dispatched_at = now(), updated_at = now()"
                   " WHERE " OWNED},
    [S_SWEEP_LEASES] = {STORE_STMT_SWEEP_LEASES,
                        "UPDATE tasks t SET worker_id = NULL, lease_until = NULL,"
                        " updated_at = now(), dispatched_at = now(),"
                        " status = CASE WHEN t.attempt >= t.max_attempts THEN 'failed'"
                        " ELSE 'queued' END,"
                        " error = CASE WHEN t.attempt >= t.max_attempts THEN jsonb_build_object("
                        "'code', " MCP_SQL(MCP_EINTERNAL) ", 'message', 'task failed: its worker stopped responding "
                        "on each of ' || t.attempt || ' attempts') END,"
                        " status_message = CASE WHEN t.attempt >= t.max_attempts THEN"
                        " 'worker lost; gave up' ELSE 'worker lost; retrying' END,"
                        " expires_at = greatest(t.expires_at, now() + t.ttl_ms *"
                        " interval '1 millisecond'),"
                        " not_before = " BACKOFF("t.attempt")
                        " FROM (SELECT id FROM tasks WHERE status IN ('running', 'input_required')"
                        " AND lease_until < now() AND pg_postmaster_start_time() < now() -"
                        " ($2::bigint * interval '1 millisecond')"
                        " LIMIT $1::int FOR UPDATE SKIP LOCKED) s"
                        " WHERE t.id = s.id RETURNING t.status, t.id::text"},
    [S_REQUEST_INPUT] = {STORE_STMT_REQUEST_INPUT,
                         "UPDATE tasks SET status = 'input_required', input_requests = $4::jsonb,"
                         " status_message = coalesce($5, 'waiting for input'), worker_id = NULL,"
                         " lease_until = NULL, attempt = attempt - 1, updated_at = now()"
                         " WHERE " OWNED " RETURNING id"},
    /* Keep answers to outstanding keys only; drop answered keys from the
     * outstanding set; back to the queue when none is left. */
    [S_ANSWER] = {STORE_STMT_ANSWER,
                  "UPDATE tasks t SET"
                  " input_responses = coalesce(t.input_responses, '{}') || coalesce(("
                  "SELECT jsonb_object_agg(r.key, r.value) FROM jsonb_each($3::jsonb) r"
                  " WHERE t.input_requests ? r.key), '{}'),"
                  " input_requests = (SELECT jsonb_object_agg(q.key, q.value)"
                  " FROM jsonb_each(t.input_requests) q WHERE NOT $3::jsonb ? q.key),"
                  " status = CASE WHEN EXISTS (SELECT 1 FROM jsonb_object_keys(t.input_requests) k"
                  " WHERE NOT $3::jsonb ? k) THEN 'input_required' ELSE 'queued' END,"
                  " dispatched_at = now(),"
                  " status_message = CASE WHEN EXISTS (SELECT 1 FROM"
                  " jsonb_object_keys(t.input_requests) k WHERE NOT $3::jsonb ? k)"
                  " THEN t.status_message ELSE 'input received' END,"
                  " updated_at = now()"
                  " WHERE t.id = $1::uuid AND t.owner = $2 AND t.status = 'input_required'"
                  " AND t.expires_at > now() RETURNING t.status, t.attempt"},
    /* A retryable failure: back to the queue after a backoff, or failed at the last
     * attempt with the tool's message. */
    [S_RETRY] = {STORE_STMT_RETRY,
                 "UPDATE tasks SET worker_id = NULL, lease_until = NULL, updated_at = now(),"
                 " dispatched_at = now(),"
                 " status = CASE WHEN attempt >= max_attempts THEN 'failed' ELSE 'queued' END,"
                 " error = CASE WHEN attempt >= max_attempts THEN jsonb_build_object('code',"
                 " " MCP_SQL(MCP_EINTERNAL) ", 'message', $4::text) END,"
                 " status_message = CASE WHEN attempt >= max_attempts THEN $4::text"
                 " ELSE 'retrying: ' || $4::text END,"
                 " not_before = " BACKOFF("attempt") ", " KEEP " WHERE " OWNED " RETURNING status"},
    /* Queued tasks nobody claimed for a while: mark them pushed again. */
    [S_REDISPATCH] = {STORE_STMT_REDISPATCH,
                      "UPDATE tasks t SET dispatched_at = now() FROM (SELECT id FROM tasks"
                      " WHERE status = 'queued' AND not_before <= now()"
                      " AND dispatched_at < now() - ($1::bigint * interval '1 millisecond')"
                      " ORDER BY dispatched_at LIMIT $2::int FOR UPDATE SKIP LOCKED) s"
                      " WHERE t.id = s.id RETURNING " STORE_DISPATCH_SQL},
    /* Sizes for metrics, from the partial indexes only (never the whole table). */
    [S_QUEUE_STATS] = {STORE_STMT_QUEUE_STATS,
                       "SELECT (SELECT count(*) FROM tasks WHERE status = 'queued'),"
                       " (SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)"
                       " FROM tasks WHERE status = 'queued'),"
                       " (SELECT count(*) FROM tasks WHERE status IN ('running', 'input_required')"
                       " AND lease_until IS NOT NULL)"},
    /* A caller's ids, newest first, through an index on their own rows only.
     * Up to one typed character: tasks_owner_list_idx (0004) backwards, reading
     * at most about 16 rows per id returned.  Longer prefixes: the id range of
     * tasks_owner_id_idx (0005), at most STORE_IDS_SCAN rows (the newest of the
     * first that many in id order, so only a prefix matching more than that is
     * cut).  Both keep their plan when PostgreSQL switches to a generic one. */
    [S_RECENT_IDS] = {STORE_STMT_RECENT_IDS,
                      "SELECT id FROM tasks WHERE owner = $1 AND id::text LIKE $2 AND " VISIBLE
                      " ORDER BY created_at DESC, id DESC LIMIT $3::int"},
    [S_PREFIX_IDS] = {STORE_STMT_PREFIX_IDS,
                      "SELECT id FROM (SELECT id, created_at FROM tasks WHERE owner = $1"
                      " AND id BETWEEN $2::uuid AND $3::uuid AND " VISIBLE
                      " ORDER BY id LIMIT " STORE_IDS_SCAN ") s"
                      " ORDER BY created_at DESC, id DESC LIMIT $4::int"},
    /* The client refused an input request: the round ends the task with a tool error. */
    [S_END_INPUT] = {STORE_STMT_END_INPUT,
                     "UPDATE tasks SET status = 'completed', result = $3::jsonb,"
                     " input_requests = NULL, status_message = 'input refused by the client',"
                     " updated_at = now(), " KEEP " WHERE id = $1::uuid AND owner = $2"
                     " AND status = 'input_required' AND expires_at > now() RETURNING id"},
    /* A page of an owner's tasks after a position (keyset on tasks_owner_list_idx). */
    [S_LIST] = {STORE_STMT_LIST,
                "SELECT " ROW_COLS " FROM tasks WHERE owner = $1 AND " VISIBLE
                " AND (created_at, id) > (timestamptz 'epoch' + $2::bigint"
                " * interval '1 microsecond', $3::uuid) ORDER BY created_at, id LIMIT $4::int"},
    [S_SWEEP_EXPIRED] = {STORE_STMT_SWEEP_EXPIRED,
                         "DELETE FROM tasks WHERE id IN (SELECT id FROM tasks WHERE"
                         " expires_at <= now() AND status NOT IN ('queued', 'running')"
                         " LIMIT $1::int FOR UPDATE SKIP LOCKED)"},
};

/* Columns of the tw_sweep_leases and tw_queue_stats results. */
enum { SWEPT_STATUS, SWEPT_ID };
enum { STATS_QUEUED, STATS_OLDEST_QUEUED_S, STATS_RUNNING };

/*
 * Run prepared statement 's'.  On success *out holds the result (caller
 * clears it through st->pq).  A connection that died is re-opened and the
 * statement sent once more: every statement here is safe to repeat (a
 * repeated conditional write matches nothing; a repeated insert reports a
 * duplicate).  A failure leaves its SQLSTATE in st->sqlstate.
 */
static int run(struct store *st, enum stmt s, int n, const char *const *params, PGresult **out,
               struct err *err)
{
    st->sqlstate[0] = '\0';
    for (int tries = 0; tries < 2; tries++) {
        int rc = store_conn_open(st, stmts, S_COUNT, err);
        if (rc < 0)
            return rc;
        PGresult *r = st->pq->exec_prepared(st->conn, stmts[s].name, n, params, NULL, NULL, 0);
        ExecStatusType status = st->pq->result_status(r);
        if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
            *out = r;
            return 0;
        }
        rc = store_conn_fail(st, r, stmts[s].name, err);
        if (rc != -STORE_EUNAVAILABLE)
            return rc;
    }
    return -STORE_EUNAVAILABLE;
}

/* Run a statement expected to return zero or one task row. */
static int run_row(struct store *st, enum stmt s, int n, const char *const *params,
                   struct task_row *out, struct err *err)
{
    PGresult *r;
    int rc = run(st, s, n, params, &r, err);
    if (rc < 0)
        return rc;
    if (PQntuples(r) == 0)
        rc = err_set(err, -STORE_ENOTFOUND, "no such task");
    else
        rc = out ? store_row_read(r, 0, STORE_ROW_TASK, out, err) : 0;
    st->pq->clear(r);
    return rc;
}

/* Run a conditional write; zero rows affected is -STORE_ELOST. */
static int run_owned(struct store *st, enum stmt s, int n, const char *const *params,
                     struct err *err)
{
    PGresult *r;
    int rc = run(st, s, n, params, &r, err);
    if (rc < 0)
        return rc;
    if (strcmp(st->pq->cmd_tuples(r), "0") == 0)
        rc = err_set(err, -STORE_ELOST, "task no longer owned (cancelled or lease lost)");
    st->pq->clear(r);
    return rc;
}

/*
 * True when the server answers "SELECT 1" now.  Opens the connection if
 * needed (and drops it when it turns out lost).  Used by /readyz.
 */
bool store_ping(struct store *st)
{
    if (store_conn_open(st, stmts, S_COUNT, NULL) < 0)
        return false;
    PGresult *r = st->pq->exec(st->conn, "SELECT 1");
    if (st->pq->result_status(r) == PGRES_TUPLES_OK) {
        st->pq->clear(r);
        return true;
    }
    store_conn_fail(st, r, "ping", NULL); /* drops a lost connection */
    return false;
}

/*
 * Insert task 't' as queued and fill *out with the stored row (timestamps
 * from the database).  The INSERT has committed when this returns 0.  A
 * duplicate id (only possible when a retry follows a lost connection whose
 * INSERT had committed) reads the row back instead.
 */
int store_task_create(struct store *st, const struct task_new *t, struct task_row *out,
                      struct err *err)
{
    char ttl[24], poll[24], att[16];
    snprintf(ttl, sizeof(ttl), "%lld", (long long)t->ttl_ms);
    snprintf(poll, sizeof(poll), "%lld", (long long)t->poll_interval_ms);
    snprintf(att, sizeof(att), "%d", t->max_attempts);
    const char *p[] = {t->id, t->owner, t->tool,        t->args,           t->trace,
                       ttl,   poll,     att,            t->client_caps,    t->input_responses};
    struct err e = {0};
    int rc = run_row(st, S_CREATE, 10, p, out, &e);
    if (rc == -STORE_EINVALID && strcmp(st->sqlstate, STORE_SQLSTATE_UNIQUE) == 0)
        return store_task_get(st, t->id, t->owner, out, err);
    if (rc < 0 && err)
        *err = e;
    return rc;
}

/*
 * Read task 'id' if it exists, is not past its TTL and (when 'owner' is not
 * NULL) belongs to 'owner'.  Anything else is -STORE_ENOTFOUND, so a foreign
 * task reads exactly like an unknown one.
 */
int store_task_get(struct store *st, const char *id, const char *owner, struct task_row *out,
                   struct err *err)
{
    if (!taskid_valid(id))
        return err_set(err, -STORE_ENOTFOUND, "no such task");
    const char *p[] = {id, owner};
    return run_row(st, S_GET, 2, p, out, err);
}

/*
 * Copy into ids[0..*count) the ids of the tasks 'owner' can see whose id
 * starts with 'prefix' (hex digits in either case and dashes where ids have
 * them; "" = any), newest first, at most 'max' (clamped to
 * 1..STORE_IDS_MAX; 'ids' must hold that many).  With two characters or
 * more, only the first STORE_IDS_SCAN matching ids in id order are ranked.
 * A prefix no id can start with finds nothing without asking the database.
 * Returns 0 or the store's negative code (then *count is 0).
 */
int store_task_ids(struct store *st, const char *owner, const char *prefix, int max,
                   char (*ids)[TASKID_LEN + 1], int *count, struct err *err)
{
    char lo[TASKID_LEN + 1], hi[TASKID_LEN + 1], m[16], like[4];
    *count = 0;
    if (!owner || !taskid_prefix_range(prefix, lo, hi))
        return 0;
    max = max < 1 ? 1 : max > STORE_IDS_MAX ? STORE_IDS_MAX : max;
    snprintf(m, sizeof(m), "%d", max);
    size_t typed = strlen(prefix);
    snprintf(like, sizeof(like), "%.*s%%", (int)typed, lo); /* lowercased */
    PGresult *r;
    int rc = typed > 1 ? run(st, S_PREFIX_IDS, 4, (const char *const[]){owner, lo, hi, m}, &r, err)
                       : run(st, S_RECENT_IDS, 3, (const char *const[]){owner, like, m}, &r, err);
    if (rc < 0)
        return rc;
    for (int i = 0; i < PQntuples(r) && *count < max; i++) {
        const char *id = PQgetvalue(r, i, 0);
        if (taskid_valid(id)) /* always: uuid text output is canonical */
            memcpy(ids[(*count)++], id, TASKID_LEN + 1);
    }
    st->pq->clear(r);
    return 0;
}

/* 0 when task 'id' is visible to 'owner' (it exists, is not expired and is
 * theirs), else -STORE_ENOTFOUND or the failure of reading it. */
static int task_visible(struct store *st, const char *id, const char *owner, struct err *err)
{
    struct task_row row;
    int rc = store_task_get(st, id, owner, &row, err);
    if (rc == 0)
        task_row_fini(&row);
    return rc;
}

/*
 * Move a non-terminal task of 'owner' to cancelled.  Returns 0 when it is
 * now cancelled or was already terminal (tasks/cancel is idempotent), with
 * *changed true only in the first case; -STORE_ENOTFOUND otherwise.
 */
int store_task_cancel(struct store *st, const char *id, const char *owner, bool *changed,
                      struct err *err)
{
    *changed = false;
    if (!taskid_valid(id))
        return err_set(err, -STORE_ENOTFOUND, "no such task");
    const char *p[] = {id, owner};
    int rc = run_row(st, S_CANCEL, 2, p, NULL, err);
    if (rc == 0) {
        *changed = true;
        return 0;
    }
    if (rc != -STORE_ENOTFOUND)
        return rc;
    return task_visible(st, id, owner, err);
}

/*
 * Claim queued task 'id' for 'worker' with a lease of 'lease_ms'; fills *out
 * with the row as claimed (attempt already incremented).  -STORE_ENOTFOUND
 * when it is not queued any more (claimed elsewhere, cancelled, expired).
 */
int store_task_claim(struct store *st, const char *id, const char *worker, int64_t lease_ms,
                     struct task_row *out, struct err *err)
{
    if (!taskid_valid(id))
        return err_set(err, -STORE_ENOTFOUND, "no such task");
    char lease[24];
    snprintf(lease, sizeof(lease), "%lld", (long long)lease_ms);
    const char *p[] = {id, worker, lease};
    return run_row(st, S_CLAIM, 3, p, out, err);
}

/*
 * Claim the oldest queued task, skipping rows other claimers hold locked.
 * -STORE_ENOTFOUND when the queue is empty.
 */
int store_task_claim_next(struct store *st, const char *worker, int64_t lease_ms,
                          struct task_row *out, struct err *err)
{
    char lease[24];
    snprintf(lease, sizeof(lease), "%lld", (long long)lease_ms);
    const char *p[] = {worker, lease};
    return run_row(st, S_CLAIM_NEXT, 2, p, out, err);
}

/*
 * Renew the lease of a task this worker runs and, optionally, record a new
 * status message and progress, and append the log messages of JSON array
 * 'log' (NULL: none).  -STORE_ELOST when the task was cancelled or the lease
 * was lost: the caller must stop the tool.
 */
int store_task_heartbeat(struct store *st, const char *id, const char *worker, int attempt,
                         int64_t lease_ms, const char *status_message, double progress,
                         double total, const char *log, struct err *err)
{
    char att[16], lease[24], prog[32], tot[32];
    snprintf(att, sizeof(att), "%d", attempt);
    snprintf(lease, sizeof(lease), "%lld", (long long)lease_ms);
    snprintf(prog, sizeof(prog), "%.17g", progress);
    snprintf(tot, sizeof(tot), "%.17g", total);
    const char *p[] = {id,
                       worker,
                       att,
                       lease,
                       status_message,
                       progress >= 0 ? prog : NULL,
                       progress >= 0 && total > 0 ? tot : NULL,
                       log};
    return run_owned(st, S_HEARTBEAT, 8, p, err);
}

/*
 * Record the outcome of a task this worker runs: TASK_COMPLETED with a
 * CallToolResult, or TASK_FAILED with a JSON-RPC error object.  Exactly one
 * outcome can ever be stored: -STORE_ELOST when it was cancelled or the lease
 * moved on, and the result is discarded.  The last progress (negative =
 * unchanged) and the log messages not written yet ('log', a JSON array, or
 * NULL) are written in the same statement.
 */
int store_task_finish(struct store *st, const char *id, const char *worker, int attempt,
                      enum task_status status, const char *json, const char *status_message,
                      double progress, double total, const char *log, struct err *err)
{
    if (status != TASK_COMPLETED && status != TASK_FAILED)
        return err_set(err, -STORE_EINVALID, "finish takes completed or failed");
    char att[16], prog[32], tot[32];
    snprintf(att, sizeof(att), "%d", attempt);
    snprintf(prog, sizeof(prog), "%.17g", progress);
    snprintf(tot, sizeof(tot), "%.17g", total);
    const char *p[] = {id,
                       worker,
                       att,
                       taskstate_name(status),
                       status == TASK_COMPLETED ? json : NULL,
                       status == TASK_FAILED ? json : NULL,
                       status_message,
                       progress >= 0 ? prog : NULL,
                       progress >= 0 && total > 0 ? tot : NULL,
                       log};
    return run_owned(st, S_FINISH, 10, p, err);
}

/*
 * Park a running task until the client answers: 'requests' is the JSON text
 * of an inputRequests map holding only the keys still unanswered.  The task
 * reads input_required and no longer belongs to any worker (nor holds a
 * lease, nor counts this attempt); once tasks/update answers every key it
 * is queued again and the tool re-runs with the answers.  -STORE_ELOST when
 * the task is no longer this worker's.
 */
int store_task_request_input(struct store *st, const char *id, const char *worker, int attempt,
                             const char *requests, const char *status_message, struct err *err)
{
    char att[16];
    snprintf(att, sizeof(att), "%d", attempt);
    const char *p[] = {id, worker, att, requests, status_message};
    return run_owned(st, S_REQUEST_INPUT, 5, p, err);
}

/*
 * Store answers ('responses', JSON text of an inputResponses map) for a task
 * of 'owner'.  Keys that are not outstanding are ignored; answered keys stop
 * being outstanding; when none is left the task is queued again (*resumed) and
 * *attempt gets its attempt count, so the caller can push its job envelope
 * without reading the row (0 when not resumed).  A task that is not waiting
 * for input is left alone (0); an unknown or foreign one is -STORE_ENOTFOUND.
 */
int store_task_answer(struct store *st, const char *id, const char *owner, const char *responses,
                      bool *resumed, int *attempt, struct err *err)
{
    *resumed = false;
    *attempt = 0;
    if (!taskid_valid(id))
        return err_set(err, -STORE_ENOTFOUND, "no such task");
    const char *p[] = {id, owner, responses};
    PGresult *r;
    int rc = run(st, S_ANSWER, 3, p, &r, err);
    if (rc < 0)
        return rc;
    bool updated = PQntuples(r) == 1;
    *resumed = updated && strcmp(PQgetvalue(r, 0, 0), "queued") == 0;
    if (*resumed)
        *attempt = atoi(PQgetvalue(r, 0, 1));
    st->pq->clear(r);
    if (updated)
        return 0;
    return task_visible(st, id, owner, err);
}

/*
 * A retryable failure of a task this worker runs: queue it again after an
 * exponential backoff with jitter, or fail it with 'message' at the last
 * attempt (*failed).  -STORE_ELOST when it is no longer this worker's.
 */
int store_task_retry(struct store *st, const char *id, const char *worker, int attempt,
                     const char *message, bool *failed, struct err *err)
{
    char att[16];
    snprintf(att, sizeof(att), "%d", attempt);
    const char *p[] = {id, worker, att, message};
    PGresult *r;
    *failed = false;
    int rc = run(st, S_RETRY, 4, p, &r, err);
    if (rc < 0)
        return rc;
    if (PQntuples(r) == 0)
        rc = err_set(err, -STORE_ELOST, "task no longer owned (cancelled or lease lost)");
    else
        *failed = strcmp(PQgetvalue(r, 0, 0), "failed") == 0;
    st->pq->clear(r);
    return rc;
}

/* Read every row of result 'r' (cleared here) of 'shape' into a new array: 0 with
 * *rows and *count set, or the failure with *rows NULL (nothing half-made goes back). */
static int read_rows(struct store *st, PGresult *r, enum store_row_shape shape,
                     struct task_row **rows, int *count, struct err *err)
{
    int rc = 0, n = PQntuples(r);
    *rows = NULL;
    *count = 0;
    if (n > 0 && !(*rows = calloc((size_t)n, sizeof(**rows))))
        rc = err_set(err, -STORE_EINTERNAL, "out of memory");
    for (int i = 0; rc == 0 && i < n; i++) {
        rc = store_row_read(r, i, shape, &(*rows)[i], err);
        *count += rc == 0;
    }
    st->pq->clear(r);
    if (rc < 0) {
        for (int i = 0; i < *count; i++)
            task_row_fini(&(*rows)[i]);
        free(*rows);
        *rows = NULL;
        *count = 0;
    }
    return rc;
}

/*
 * Up to 'max' (1..STORE_LIST_MAX) tasks of 'owner' that tasks/get would
 * show, in (created_at, id) order, after the position (after_us, after_id)
 * (after_id NULL: from the first).  On success *rows is a new array of
 * *count full rows; the caller frees each with task_row_fini() and the
 * array with free().  A bad after_id is -STORE_EINVALID.
 */
int store_task_list(struct store *st, const char *owner, int64_t after_us, const char *after_id,
                    int max, struct task_row **rows, int *count, struct err *err)
{
    char us[24], lim[16];
    *rows = NULL;
    *count = 0;
    if (after_id && !taskid_valid(after_id))
        return err_set(err, -STORE_EINVALID, "not a task id");
    snprintf(us, sizeof(us), "%lld", (long long)(after_id ? after_us : 0));
    snprintf(lim, sizeof(lim), "%d", max < 1 ? 1 : max > STORE_LIST_MAX ? STORE_LIST_MAX : max);
    const char *p[] = {owner, us, after_id ? after_id : "00000000-0000-0000-0000-000000000000",
                       lim};
    PGresult *r;
    int rc = run(st, S_LIST, 4, p, &r, err);
    return rc < 0 ? rc : read_rows(st, r, STORE_ROW_TASK, rows, count, err);
}

/*
 * End the input round of a task of 'owner' that waits for input: it
 * completes with 'result' (the JSON text of a CallToolResult, a tool error
 * saying what the client refused).  Safe without a worker: a task waiting
 * for input belongs to none.  Returns 0, or -STORE_ENOTFOUND when it is
 * unknown, foreign or no longer waiting for input.
 */
int store_task_end_input(struct store *st, const char *id, const char *owner, const char *result,
                         struct err *err)
{
    if (!taskid_valid(id))
        return err_set(err, -STORE_ENOTFOUND, "no such task");
    const char *p[] = {id, owner, result};
    return run_row(st, S_END_INPUT, 3, p, NULL, err);
}

/*
 * Queued tasks not claimed within 'after_ms' of their last push: mark them
 * pushed now and hand back up to 'max' of them so they can be pushed again.
 * Only id, tool, owner, attempt and trace are filled (the envelope is a hint;
 * workers read the rest when they claim).  The caller frees each row and the
 * array.  Safe in every frontend at once.
 */
int store_redispatch(struct store *st, int64_t after_ms, int max, struct task_row **rows,
                     int *count, struct err *err)
{
    char a[24], m[16];
    snprintf(a, sizeof(a), "%lld", (long long)after_ms);
    snprintf(m, sizeof(m), "%d", max);
    const char *p[] = {a, m};
    PGresult *r;
    *rows = NULL;
    *count = 0;
    int rc = run(st, S_REDISPATCH, 2, p, &r, err);
    return rc < 0 ? rc : read_rows(st, r, STORE_ROW_DISPATCH, rows, count, err);
}

/*
 * Put a task this worker runs back to queued, giving back its attempt (used
 * on graceful shutdown, where the task did nothing wrong).
 */
int store_task_release(struct store *st, const char *id, const char *worker, int attempt,
                       struct err *err)
{
    char att[16];
    snprintf(att, sizeof(att), "%d", attempt);
    const char *p[] = {id, worker, att};
    return run_owned(st, S_RELEASE, 3, p, err);
}

/*
 * One sweeper pass over at most 'batch' rows per kind: expired leases go back
 * to queued (or to failed at max attempts), rows past their TTL are deleted.
 * Leases are not judged until PostgreSQL has been up for 'lease_ms': after a
 * database restart every lease looks expired only because no heartbeat could
 * be written, and the workers must get the chance to renew them and store
 * the results they finished meanwhile.  Then the queue's size, its oldest
 * age and the running count are read.  'changed' (may be NULL) is called
 * with the id of every task whose lease was judged, so waiters hear of it.
 * Safe to run in every process at once (FOR UPDATE SKIP LOCKED).
 */
int store_sweep(struct store *st, int batch, int64_t lease_ms, struct sweep_counts *out,
                store_changed_fn *changed, void *arg, struct err *err)
{
    char b[16], l[24];
    snprintf(b, sizeof(b), "%d", batch);
    snprintf(l, sizeof(l), "%lld", (long long)lease_ms);
    const char *p[] = {b, l};
    PGresult *r;
    memset(out, 0, sizeof(*out));
    int rc = run(st, S_SWEEP_LEASES, 2, p, &r, err);
    if (rc < 0)
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        if (strcmp(PQgetvalue(r, i, SWEPT_STATUS), "failed") == 0)
            out->failed++;
        else
            out->requeued++;
        if (changed)
            changed(arg, PQgetvalue(r, i, SWEPT_ID));
    }
    st->pq->clear(r);
    if ((rc = run(st, S_SWEEP_EXPIRED, 1, p, &r, err)) < 0)
        return rc;
    out->expired = atoi(st->pq->cmd_tuples(r));
    st->pq->clear(r);
    if ((rc = run(st, S_QUEUE_STATS, 0, NULL, &r, err)) < 0)
        return rc;
    out->queued = atoll(PQgetvalue(r, 0, STATS_QUEUED));
    out->oldest_queued_s = strtod(PQgetvalue(r, 0, STATS_OLDEST_QUEUED_S), NULL);
    out->running = atoll(PQgetvalue(r, 0, STATS_RUNNING));
    st->pq->clear(r);
    return 0;
}
