/*
 * store.c - the task store's calls: parameters in, rows out.
 *
 * Each call runs one prepared statement of store_sql.c (created once per
 * connection by store_conn.c) and reads its result; a statement that finds
 * its connection dropped is sent once more.  No SQL text lives here.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "store.h"
#include "store_seam.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store_conn.h"
#include "store_row.h"
#include "store_sql.h"

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
        int rc = store_conn_open(st, store_stmts, S_COUNT, err);
        if (rc < 0)
            return rc;
        PGresult *r = st->pq->exec_prepared(st->conn, store_stmts[s].name, n, params, NULL, NULL, 0);
        ExecStatusType status = st->pq->result_status(r);
        if (status == PGRES_TUPLES_OK || status == PGRES_COMMAND_OK) {
            *out = r;
            return 0;
        }
        rc = store_conn_fail(st, r, store_stmts[s].name, err);
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
    if (store_conn_open(st, store_stmts, S_COUNT, NULL) < 0)
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
 * INSERT had committed) reads the row back instead.  When the owner has
 * t->max_live live tasks already (counted with a LIMIT through the partial
 * index of each live status, so never more than that many rows are read), nothing
 * is inserted and the result is -STORE_ELIMIT; concurrent creates of one
 * owner may pass the cap by as many as run at once.
 */
int store_task_create(struct store *st, const struct task_new *t, struct task_row *out,
                      struct err *err)
{
    char ttl[24], poll[24], att[16], live[16];
    snprintf(ttl, sizeof(ttl), "%lld", (long long)t->ttl_ms);
    snprintf(poll, sizeof(poll), "%lld", (long long)t->poll_interval_ms);
    snprintf(att, sizeof(att), "%d", t->max_attempts);
    snprintf(live, sizeof(live), "%d", t->max_live);
    const char *p[] = {t->id, t->owner,         t->tool,           t->args,
                       t->trace, ttl,           poll,              att,
                       t->client_caps, t->input_responses, t->max_live > 0 ? live : NULL};
    struct err e = {0};
    int rc = run_row(st, S_CREATE, 11, p, out, &e);
    if (rc == -STORE_EINVALID && strcmp(st->sqlstate, STORE_SQLSTATE_UNIQUE) == 0)
        return store_task_get(st, t->id, t->owner, out, err);
    if (rc == -STORE_ENOTFOUND) { /* the cap; or a retry whose first INSERT committed */
        rc = store_task_get(st, t->id, t->owner, out, NULL);
        if (rc != -STORE_ENOTFOUND)
            return rc;
        return err_set(err, -STORE_ELIMIT, "the owner has %d live tasks already", t->max_live);
    }
    if (rc < 0 && err)
        *err = e;
    return rc;
}

/* The JSON array S_CREATE_MANY reads: one object per task of t[0..n); NULL when a
 * field is no valid JSON string (its task then goes through store_task_create()). */
static char *create_many_param(const struct task_new *t, int n)
{
    json_t *a = json_array();
    for (int i = 0; a && i < n; i++) {
        json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s?, s:I, s:I, s:i, s:s?, s:s?, s:o?}",
                              "i", i, "id", t[i].id, "owner", t[i].owner, "tool", t[i].tool, "args",
                              t[i].args, "trace", t[i].trace, "ttl", (json_int_t)t[i].ttl_ms,
                              "poll", (json_int_t)t[i].poll_interval_ms, "att", t[i].max_attempts,
                              "caps", t[i].client_caps, "answers", t[i].input_responses, "live",
                              t[i].max_live > 0 ? json_integer(t[i].max_live) : NULL);
        if (!o || json_array_append_new(a, o) < 0) {
            json_decref(a);
            return NULL;
        }
    }
    char *text = a ? json_dumps(a, JSON_COMPACT) : NULL;
    json_decref(a);
    return text;
}

/*
 * Insert tasks t[0..n) in one statement and one commit: afterwards rcs[i] and
 * out[i] (when rcs[i] is 0) are what store_task_create(st, &t[i], &out[i],
 * &errs[i]) gives, and errs[i] is set when rcs[i] < 0 (errs may be NULL).  A
 * task the statement did not insert (a duplicate id, the owner's cap), and
 * every task when the statement fails for another reason than an unreachable
 * server, goes through store_task_create() on its own.
 */
void store_task_create_many(struct store *st, const struct task_new *t, int n, struct task_row *out,
                            int *rcs, struct err *errs)
{
    enum { PENDING = 1 };
    for (int i = 0; i < n; i++)
        rcs[i] = PENDING;
    char *json = n > 1 ? create_many_param(t, n) : NULL;
    PGresult *r = NULL;
    struct err e = {0};
    int rc =
        json ? run(st, S_CREATE_MANY, 1, (const char *const[]){json}, &r, &e) : -STORE_EINVALID;
    free(json);
    for (int row = 0; rc == 0 && row < PQntuples(r); row++) {
        struct task_row got;
        if (store_row_read(r, row, STORE_ROW_TASK, &got, NULL) < 0)
            continue; /* read back by store_task_create() below */
        int i = 0;
        while (i < n && (rcs[i] != PENDING || strcasecmp(t[i].id, got.id) != 0))
            i++;
        if (i < n) {
            out[i] = got;
            rcs[i] = 0;
        } else {
            task_row_fini(&got);
        }
    }
    if (r)
        st->pq->clear(r);
    for (int i = 0; i < n; i++) {
        if (rcs[i] != PENDING)
            continue;
        struct err *ei = errs ? &errs[i] : NULL;
        if (rc == -STORE_EUNAVAILABLE) {
            rcs[i] = rc;
            if (ei)
                *ei = e;
        } else {
            rcs[i] = store_task_create(st, &t[i], &out[i], ei);
        }
    }
}

/*
 * Read task 'id' by 'stmt' (S_GET or S_GET_BRIEF) if it exists, is not past its
 * TTL and (when 'owner' is not NULL) belongs to 'owner'.  Anything else is
 * -STORE_ENOTFOUND, so a foreign task reads exactly like an unknown one.
 */
static int get_row(struct store *st, enum stmt stmt, const char *id, const char *owner,
                   struct task_row *out, struct err *err)
{
    if (!taskid_valid(id))
        return err_set(err, -STORE_ENOTFOUND, "no such task");
    const char *p[] = {id, owner};
    return run_row(st, stmt, 2, p, out, err);
}

int store_task_get(struct store *st, const char *id, const char *owner, struct task_row *out,
                   struct err *err)
{
    return get_row(st, S_GET, id, owner, out, err);
}

int store_task_get_brief(struct store *st, const char *id, const char *owner,
                         struct task_row *out, struct err *err)
{
    return get_row(st, S_GET_BRIEF, id, owner, out, err);
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

/* "n" for a cap of n >= 1 into buf, or NULL (no cap) for n <= 0. */
static const char *cap_param(int n, char *buf, size_t size)
{
    if (n <= 0)
        return NULL;
    snprintf(buf, size, "%d", n);
    return buf;
}

/*
 * Claim queued task 'id' for 'worker' with a lease of 'lease_ms', unless
 * its owner runs 'max_running' tasks already (0 = no cap); fills *out with
 * the row as claimed (attempt already incremented).  -STORE_ENOTFOUND when
 * it is not queued any more (claimed elsewhere, cancelled, expired) or its
 * owner is at the cap: then it stays queued for a later claim.
 */
int store_task_claim(struct store *st, const char *id, const char *worker, int64_t lease_ms,
                     int max_running, struct task_row *out, struct err *err)
{
    if (!taskid_valid(id))
        return err_set(err, -STORE_ENOTFOUND, "no such task");
    char lease[24], cap[16];
    snprintf(lease, sizeof(lease), "%lld", (long long)lease_ms);
    const char *p[] = {id, worker, lease, cap_param(max_running, cap, sizeof(cap))};
    return run_row(st, S_CLAIM, 4, p, out, err);
}

/*
 * Claim the fairest queued task (round robin over owners by fair_key) whose
 * owner runs fewer than 'max_running' tasks (0 = no cap), skipping rows other
 * claimers hold locked.  -STORE_ENOTFOUND when none is claimable.  The cap is
 * soft: workers claiming at the same moment may each see room for one more.
 */
int store_task_claim_next(struct store *st, const char *worker, int64_t lease_ms, int max_running,
                          struct task_row *out, struct err *err)
{
    char lease[24], cap[16];
    snprintf(lease, sizeof(lease), "%lld", (long long)lease_ms);
    const char *p[] = {worker, lease, cap_param(max_running, cap, sizeof(cap))};
    return run_row(st, S_CLAIM_NEXT, 3, p, out, err);
}

/*
 * Renew the lease of a task this worker runs and, optionally, record a new
 * status message and progress, and append the log messages of JSON array
 * 'log' (NULL: none).  -STORE_ELOST when the task was cancelled or the lease
 * was lost: the caller must stop the tool.
 */
int store_task_heartbeat(struct store *st, const char *id, const char *worker, const char *claim,
                         int64_t lease_ms, const char *status_message, double progress,
                         double total, const char *log, struct err *err)
{
    char lease[24], prog[32], tot[32];
    snprintf(lease, sizeof(lease), "%lld", (long long)lease_ms);
    snprintf(prog, sizeof(prog), "%.17g", progress);
    snprintf(tot, sizeof(tot), "%.17g", total);
    const char *p[] = {id,
                       worker,
                       claim,
                       lease,
                       status_message,
                       progress >= 0 ? prog : NULL,
                       progress >= 0 && total > 0 ? tot : NULL,
                       log};
    return run_owned(st, S_HEARTBEAT, 8, p, err);
}

enum { FINISH_NPARAMS = 10, NUM_TEXT = 32 /* a double as text ("%.17g") */ };

/* The parameters of S_FINISH for 'o' into p (prog and tot: NUM_TEXT bytes each); -1
 * when o->status is not an outcome. */
static int finish_params(const struct task_outcome *o, const char **p, char *prog, char *tot)
{
    if (o->status != TASK_COMPLETED && o->status != TASK_FAILED)
        return -1;
    snprintf(prog, NUM_TEXT, "%.17g", o->progress);
    snprintf(tot, NUM_TEXT, "%.17g", o->total);
    const char *v[FINISH_NPARAMS] = {o->id,
                                     o->worker,
                                     o->claim,
                                     taskstate_name(o->status),
                                     o->status == TASK_COMPLETED ? o->json : NULL,
                                     o->status == TASK_FAILED ? o->json : NULL,
                                     o->status_message,
                                     o->progress >= 0 ? prog : NULL,
                                     o->progress >= 0 && o->total > 0 ? tot : NULL,
                                     o->log};
    memcpy(p, v, sizeof(v));
    return 0;
}

/*
 * Record the outcome of a task this worker runs: TASK_COMPLETED with a
 * CallToolResult, or TASK_FAILED with a JSON-RPC error object.  Exactly one
 * outcome can ever be stored: -STORE_ELOST when it was cancelled or the lease
 * moved on, and the result is discarded.  The last progress (negative =
 * unchanged) and the log messages not written yet ('log', a JSON array, or
 * NULL) are written in the same statement.
 */
int store_task_finish(struct store *st, const char *id, const char *worker, const char *claim,
                      enum task_status status, const char *json, const char *status_message,
                      double progress, double total, const char *log, struct err *err)
{
    const struct task_outcome o = {id,       worker, claim, status, json, status_message,
                                   progress, total,  log};
    const char *p[FINISH_NPARAMS];
    char prog[NUM_TEXT], tot[NUM_TEXT];
    if (finish_params(&o, p, prog, tot) < 0)
        return err_set(err, -STORE_EINVALID, "finish takes completed or failed");
    return run_owned(st, S_FINISH, FINISH_NPARAMS, p, err);
}

/*
 * The outcome and the next claim share a commit: under load a slot's next
 * task costs no round trip of its own.  The claimed task's columns are NULL
 * when nothing was claimed (see store_task_claim()); the last column says
 * whether the outcome was stored.
 */
int store_task_finish_claim(struct store *st, const struct task_outcome *o, const char *next,
                            int64_t lease_ms, int max_running, struct task_row *out, bool *claimed,
                            struct err *err)
{
    const char *p[FINISH_NPARAMS + 3];
    char prog[NUM_TEXT], tot[NUM_TEXT], lease[24], cap[16];
    *claimed = false;
    if (finish_params(o, p, prog, tot) < 0)
        return err_set(err, -STORE_EINVALID, "finish takes completed or failed");
    snprintf(lease, sizeof(lease), "%lld", (long long)lease_ms);
    p[FINISH_NPARAMS] = taskid_valid(next) ? next : NULL; /* NULL claims nothing */
    p[FINISH_NPARAMS + 1] = lease;
    p[FINISH_NPARAMS + 2] = cap_param(max_running, cap, sizeof(cap));
    PGresult *r;
    int rc = run(st, S_FINISH_CLAIM, FINISH_NPARAMS + 3, p, &r, err);
    if (rc < 0)
        return rc;
    int flag = STORE_TASK_NCOLS;
    if (PQntuples(r) != 1 || PQnfields(r) != flag + 1) {
        rc = err_set(err, -STORE_EINTERNAL, "unexpected result of a finish and claim");
    } else {
        if (strcmp(PQgetvalue(r, 0, flag), "t") != 0)
            rc = err_set(err, -STORE_ELOST, "task no longer owned (cancelled or lease lost)");
        /* A claimed row that cannot be read is left to its lease, like store_task_claim()'s. */
        *claimed =
            !PQgetisnull(r, 0, 0) && store_row_read(r, 0, STORE_ROW_TASK_AND_ONE, out, NULL) == 0;
    }
    st->pq->clear(r);
    return rc;
}

/*
 * Park a running task until the client answers: 'requests' is the JSON text
 * of an inputRequests map holding only the keys still unanswered.  The task
 * reads input_required and no longer belongs to any worker (nor holds a
 * lease, nor counts this attempt); once tasks/update answers every key it
 * is queued again and the tool re-runs with the answers.  -STORE_ELOST when
 * the task is no longer this worker's.
 */
int store_task_request_input(struct store *st, const char *id, const char *worker,
                             const char *claim, const char *requests, const char *status_message,
                             struct err *err)
{
    const char *p[] = {id, worker, claim, requests, status_message};
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
int store_task_retry(struct store *st, const char *id, const char *worker, const char *claim,
                     const char *message, bool *failed, struct err *err)
{
    const char *p[] = {id, worker, claim, message};
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
int store_task_release(struct store *st, const char *id, const char *worker, const char *claim,
                       struct err *err)
{
    const char *p[] = {id, worker, claim};
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

/*
 * Read the live tasks by tool when this session holds (or now takes) the
 * statistics lock; the live set comes from a partial index, so the cost is
 * the live tasks, never the whole table.  *leader is false (and 'each' not
 * called) in every other process.
 */
int store_tool_stats(struct store *st, bool *leader, store_tool_stats_fn *each, void *arg,
                     struct err *err)
{
    PGresult *r;
    *leader = false;
    int rc = run(st, S_STATS_LEADER, 0, NULL, &r, err);
    if (rc < 0)
        return rc;
    *leader = PQntuples(r) == 1 && strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    st->pq->clear(r);
    if (!*leader)
        return 0;
    if ((rc = run(st, S_TOOL_STATS, 0, NULL, &r, err)) < 0)
        return rc;
    for (int i = 0; i < PQntuples(r); i++) {
        struct tool_stats s = {
            .tool = PQgetvalue(r, i, 0),
            .queued = atoll(PQgetvalue(r, i, 1)),
            .oldest_queued_s = strtod(PQgetvalue(r, i, 2), NULL),
            .running = atoll(PQgetvalue(r, i, 3)),
            .input_required = atoll(PQgetvalue(r, i, 4)),
        };
        each(arg, &s);
    }
    st->pq->clear(r);
    return 0;
}
