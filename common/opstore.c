/*
 * opstore.c - the operator's statements: worker registry, outcome counts,
 * cluster status, task listing and cancel, drain.
 *
 * Plain libpq with parameters (no prepared statements: these run seldom, a
 * few per second at most).  Every statement that reads tasks goes through a
 * partial index (tasks_queued_idx, tasks_owner_running_idx) or the primary key, or
 * reads the small tables of migration 0008; the status document is built by
 * PostgreSQL in one statement (json_build_object), so the CLI and the
 * dashboard read the same numbers.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "opstore.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct opstore {
    PGconn *conn;   /* NULL until first use, or after the connection dropped */
    char *dsn;      /* libpq conninfo */
    char *app_name; /* application_name */
};

/* The status document: {"now", "window_minutes", "tools": [{tool, queued,
 * oldest_queued_s, running, input_required, completed, failed, finished_hour (every
 * outcome kept, the last hour's: for rates)}], "totals": {the same summed,
 * failure_rate}, "workers": [{id, host, version, slots, busy, tools, started_at,
 * last_seen, last_seen_s, draining}]}.  Queued rows through tasks_queued_idx, running
 * and waiting ones through tasks_owner_running_idx / tasks_owner_input_idx, outcomes from task_outcomes (at most an
 * hour of minutes). */
static const char SQL_STATUS[] =
    "WITH q AS (SELECT tool, count(*) AS n, extract(epoch FROM now() - min(created_at)) AS age"
    " FROM tasks WHERE status = 'queued' GROUP BY tool),"
    " r AS (SELECT tool, count(*) FILTER (WHERE status = 'running') AS running,"
    " count(*) FILTER (WHERE status = 'input_required') AS waiting FROM (SELECT tool, status"
    " FROM tasks WHERE status = 'running' UNION ALL SELECT tool, status FROM tasks"
    " WHERE status = 'input_required') rw GROUP BY tool),"
    " o AS (SELECT tool, sum(n0) FILTER (WHERE status = 'completed') AS completed,"
    " sum(n0) FILTER (WHERE status = 'failed') AS failed, sum(n) AS all_finished FROM"
    " (SELECT tool, status, CASE WHEN minute > now() - $1::int * interval '1 minute' THEN n"
    " ELSE 0 END AS n0, n FROM task_outcomes) x GROUP BY tool),"
    " t AS (SELECT tool, coalesce(q.n, 0) AS queued, round(coalesce(q.age, 0)::numeric, 3)"
    " AS oldest_queued_s, coalesce(r.running, 0) AS running, coalesce(r.waiting, 0)"
    " AS input_required, coalesce(o.completed, 0) AS completed, coalesce(o.failed, 0) AS failed,"
    " coalesce(o.all_finished, 0) AS finished_hour"
    " FROM q FULL JOIN r USING (tool) FULL JOIN o USING (tool))"
    " SELECT json_build_object('now', now(), 'window_minutes', $1::int,"
    " 'tools', coalesce((SELECT json_agg(t ORDER BY tool) FROM t), '[]'),"
    " 'totals', (SELECT json_build_object('queued', coalesce(sum(queued), 0),"
    " 'oldest_queued_s', coalesce(max(oldest_queued_s), 0), 'running', coalesce(sum(running), 0),"
    " 'input_required', coalesce(sum(input_required), 0), 'completed', coalesce(sum(completed), 0),"
    " 'failed', coalesce(sum(failed), 0), 'failure_rate', CASE WHEN coalesce(sum(completed + failed),"
    " 0) = 0 THEN 0 ELSE round(sum(failed)::numeric / sum(completed + failed), 4) END) FROM t),"
    " 'workers', coalesce((SELECT json_agg(w ORDER BY id) FROM (SELECT id, host, version, slots,"
    " busy, tools, started_at, last_seen, round(extract(epoch FROM now() - last_seen)::numeric, 1)"
    " AS last_seen_s, draining FROM workers) w), '[]'))::text";

/* A task summary (also the list's rows). */
#define TASK_SUMMARY                                                                              \
    "json_build_object('id', id, 'status', status, 'tool', tool, 'owner', owner, 'attempt',"     \
    " attempt, 'worker', worker_id, 'created_at', created_at, 'updated_at', updated_at,"           \
    " 'age_s', round(extract(epoch FROM now() - created_at)::numeric, 1), 'status_message',"      \
    " status_message)"

/* Tasks by filter, newest first: backwards over tasks_created_idx (0008), or
 * tasks_owner_list_idx with an owner, stopping at the LIMIT. */
static const char SQL_TASKS[] =
    "SELECT coalesce(json_agg(x.j ORDER BY x.created_at DESC, x.id DESC), '[]')::text FROM"
    " (SELECT " TASK_SUMMARY " AS j, created_at, id FROM tasks"
    " WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR tool = $2)"
    " AND ($3::text IS NULL OR owner = $3)"
    " AND ($4::bigint IS NULL OR created_at <= now() - $4::bigint * interval '1 second')"
    " AND ($5::bigint IS NULL OR created_at >= now() - $5::bigint * interval '1 second')"
    " ORDER BY created_at DESC, id DESC LIMIT $6::int) x";

/* One task with what it holds: arguments, result or error, progress, trace, log. */
static const char SQL_TASK[] =
    "SELECT (" TASK_SUMMARY "::jsonb || jsonb_build_object('args', args, 'result', result,"
    " 'error', error, 'progress', progress, 'progress_total', progress_total,"
    " 'max_attempts', max_attempts, 'trace', trace, 'lease_until', lease_until,"
    " 'dispatched_at', dispatched_at, 'not_before', not_before, 'expires_at', expires_at,"
    " 'input_requests', input_requests, 'log', log))::text FROM tasks WHERE id = $1::uuid";

/* An operator's cancel (any owner); the row's owner when it moved. */
static const char SQL_CANCEL[] =
    "WITH c AS (UPDATE tasks SET status = 'cancelled', status_message = 'cancelled by an operator',"
    " worker_id = NULL, claim = NULL, lease_until = NULL, input_requests = NULL, updated_at = now(),"
    " expires_at = greatest(expires_at, now() + ttl_ms * interval '1 millisecond')"
    " WHERE id = $1::uuid AND status IN ('queued', 'running', 'input_required') RETURNING owner)"
    " SELECT (SELECT owner FROM c), EXISTS (SELECT 1 FROM tasks WHERE id = $1::uuid)";

static const char SQL_REGISTER[] =
    "INSERT INTO workers (id, host, version, slots, tools) VALUES ($1, $2, $3, $4::int,"
    " ARRAY(SELECT jsonb_array_elements_text($5::jsonb))) ON CONFLICT (id) DO UPDATE SET host = excluded.host, version = excluded.version,"
    " slots = excluded.slots, tools = excluded.tools, busy = 0, started_at = now(),"
    " last_seen = now()";
static const char SQL_REFRESH[] =
    "UPDATE workers SET busy = $2::int, last_seen = now() WHERE id = $1 RETURNING draining";
static const char SQL_DEREGISTER[] = "DELETE FROM workers WHERE id = $1";
/* $1 is {"outcomes": [[tool, status, n]...], "failures": [[task id, tool, message]...]}. */
static const char SQL_OUTCOMES[] =
    "WITH o AS (INSERT INTO task_outcomes (minute, tool, status, n) SELECT date_trunc('minute',"
    " now()), e->>0, e->>1, sum((e->>2)::bigint) FROM jsonb_array_elements($1::jsonb->'outcomes')"
    " e GROUP BY e->>0, e->>1 ON CONFLICT (minute, tool, status) DO UPDATE SET"
    " n = task_outcomes.n + excluded.n) INSERT INTO task_failures (task_id, tool, message)"
    " SELECT (e->>0)::uuid, e->>1, e->>2 FROM jsonb_array_elements($1::jsonb->'failures') e";
static const char SQL_EXPIRE[] =
    "WITH w AS (DELETE FROM workers WHERE last_seen < now() - $1::bigint * interval"
    " '1 millisecond' RETURNING id), o AS (DELETE FROM task_outcomes WHERE minute < now() -"
    " interval '1 hour'), f AS (DELETE FROM task_failures WHERE at < now() - interval '1 hour')"
    " SELECT count(*) FROM w";
static const char SQL_DRAIN[] = "UPDATE workers SET draining = $2::boolean WHERE id = $1";

/* Failures of the last minutes (task_failures, by task_failures_at_idx), newest first. */
static const char SQL_FAILURES[] =
    "SELECT coalesce(json_agg(x ORDER BY x.at DESC), '[]')::text FROM (SELECT task_id AS id, tool,"
    " message, at, round(extract(epoch FROM now() - at)::numeric, 1) AS age_s FROM task_failures"
    " WHERE at > now() - $1::int * interval '1 minute' ORDER BY at DESC LIMIT $2::int) x";

/* Open a store; NULL only when out of memory. */
struct opstore *opstore_new(const char *dsn, const char *app_name)
{
    struct opstore *os = calloc(1, sizeof(*os));
    if (!os)
        return NULL;
    os->dsn = strdup(dsn ? dsn : "");
    os->app_name = strdup(app_name ? app_name : "taskwire");
    if (!os->dsn || !os->app_name) {
        opstore_free(os);
        return NULL;
    }
    return os;
}

/* Close the connection and free; NULL is a no-op. */
void opstore_free(struct opstore *os)
{
    if (!os)
        return;
    if (os->conn)
        PQfinish(os->conn);
    free(os->dsn);
    free(os->app_name);
    free(os);
}

/* Connect if there is no connection; 0 or -OPSTORE_EUNAVAILABLE. */
static int connect_once(struct opstore *os, struct err *err)
{
    if (os->conn && PQstatus(os->conn) == CONNECTION_OK)
        return 0;
    if (os->conn)
        PQfinish(os->conn);
    const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
    const char *vals[] = {os->dsn, os->app_name, "5", NULL};
    os->conn = PQconnectdbParams(keys, vals, 1);
    if (os->conn && PQstatus(os->conn) == CONNECTION_OK)
        return 0;
    err_set(err, -OPSTORE_EUNAVAILABLE, "cannot connect to PostgreSQL: %.200s",
            os->conn ? PQerrorMessage(os->conn) : "out of memory");
    if (os->conn)
        PQfinish(os->conn);
    os->conn = NULL;
    return -OPSTORE_EUNAVAILABLE;
}

/* Run 'sql' with n text parameters (NULL = SQL NULL); *out is the result (caller
 * PQclear()s it).  A dropped connection is opened again and the statement sent once more. */
static int run(struct opstore *os, const char *sql, int n, const char *const *params,
               PGresult **out, struct err *err)
{
    for (int tries = 0; tries < 2; tries++) {
        int rc = connect_once(os, err);
        if (rc < 0)
            return rc;
        PGresult *r = PQexecParams(os->conn, sql, n, NULL, params, NULL, NULL, 0);
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            *out = r;
            return 0;
        }
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        bool lost = PQstatus(os->conn) != CONNECTION_OK || !state || strncmp(state, "08", 2) == 0 ||
                    strncmp(state, "57P", 3) == 0;
        err_set(err, lost ? -OPSTORE_EUNAVAILABLE : -OPSTORE_EQUERY, "%.200s",
                PQresultErrorMessage(r));
        PQclear(r);
        if (!lost)
            return -OPSTORE_EQUERY;
        PQfinish(os->conn);
        os->conn = NULL;
    }
    return -OPSTORE_EUNAVAILABLE;
}

/* Run a statement returning one JSON text in its first cell into *out. */
static int run_json(struct opstore *os, const char *sql, int n, const char *const *params,
                    json_t **out, struct err *err)
{
    PGresult *r;
    *out = NULL;
    int rc = run(os, sql, n, params, &r, err);
    if (rc < 0)
        return rc;
    if (PQntuples(r) == 0 || PQgetisnull(r, 0, 0)) {
        PQclear(r);
        return err_set(err, -OPSTORE_ENOTFOUND, "not found");
    }
    json_error_t je;
    *out = json_loads(PQgetvalue(r, 0, 0), JSON_DECODE_ANY, &je);
    PQclear(r);
    if (!*out)
        return err_set(err, -OPSTORE_EQUERY, "unreadable JSON from PostgreSQL: %s", je.text);
    return 0;
}

/* Run a write; *affected (may be NULL) is the number of rows it changed. */
static int run_write(struct opstore *os, const char *sql, int n, const char *const *params,
                     int *affected, struct err *err)
{
    PGresult *r;
    int rc = run(os, sql, n, params, &r, err);
    if (rc < 0)
        return rc;
    if (affected)
        *affected = atoi(PQcmdTuples(r));
    PQclear(r);
    return 0;
}

/* Insert or refresh this worker's row. */
int opstore_register(struct opstore *os, const struct opstore_worker *w, struct err *err)
{
    char slots[16];
    snprintf(slots, sizeof(slots), "%d", w->slots);
    const char *p[] = {w->id, w->host, w->version, slots, w->tools ? w->tools : "[]"};
    return run_write(os, SQL_REGISTER, 5, p, NULL, err);
}

/* Refresh this worker's row; its draining flag into *draining. */
int opstore_refresh(struct opstore *os, const char *id, int busy, bool *draining,
                    struct err *err)
{
    char b[16];
    snprintf(b, sizeof(b), "%d", busy);
    const char *p[] = {id, b};
    PGresult *r;
    int rc = run(os, SQL_REFRESH, 2, p, &r, err);
    if (rc < 0)
        return rc;
    if (PQntuples(r) == 0)
        rc = err_set(err, -OPSTORE_ENOTFOUND, "worker %s is not registered", id);
    else
        *draining = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    return rc;
}

/* Delete this worker's row. */
int opstore_deregister(struct opstore *os, const char *id, struct err *err)
{
    const char *p[] = {id};
    return run_write(os, SQL_DEREGISTER, 1, p, NULL, err);
}

/* Add outcome counts of the current minute and failures. */
int opstore_add_outcomes(struct opstore *os, const char *batch, struct err *err)
{
    const char *p[] = {batch};
    return run_write(os, SQL_OUTCOMES, 1, p, NULL, err);
}

/* Delete dead workers and old outcome counts. */
int opstore_expire(struct opstore *os, int64_t dead_ms, int *removed, struct err *err)
{
    char ms[24];
    snprintf(ms, sizeof(ms), "%lld", (long long)dead_ms);
    const char *p[] = {ms};
    PGresult *r;
    int rc = run(os, SQL_EXPIRE, 1, p, &r, err);
    if (rc < 0)
        return rc;
    if (removed)
        *removed = PQntuples(r) ? atoi(PQgetvalue(r, 0, 0)) : 0;
    PQclear(r);
    return 0;
}

/* The cluster's state as JSON (SQL_STATUS). */
int opstore_status(struct opstore *os, int minutes, json_t **out, struct err *err)
{
    char m[16];
    snprintf(m, sizeof(m), "%d", minutes > 0 ? minutes : 5);
    const char *p[] = {m};
    return run_json(os, SQL_STATUS, 1, p, out, err);
}

/* Tasks matching 'f', newest first. */
int opstore_tasks(struct opstore *os, const struct opstore_filter *f, json_t **out,
                  struct err *err)
{
    char minage[24], maxage[24], lim[16];
    snprintf(minage, sizeof(minage), "%lld", (long long)f->min_age_s);
    snprintf(maxage, sizeof(maxage), "%lld", (long long)f->max_age_s);
    int limit = f->limit <= 0 ? 50 : f->limit > OPSTORE_LIST_MAX ? OPSTORE_LIST_MAX : f->limit;
    snprintf(lim, sizeof(lim), "%d", limit);
    const char *p[] = {f->status, f->tool, f->owner, f->min_age_s > 0 ? minage : NULL,
                       f->max_age_s > 0 ? maxage : NULL, lim};
    return run_json(os, SQL_TASKS, 6, p, out, err);
}

/* One task with its details. */
int opstore_task(struct opstore *os, const char *id, json_t **out, struct err *err)
{
    const char *p[] = {id};
    int rc = run_json(os, SQL_TASK, 1, p, out, err);
    if (rc == -OPSTORE_ENOTFOUND)
        err_set(err, rc, "no task %s", id);
    return rc;
}

/* Cancel a task of any owner. */
int opstore_cancel(struct opstore *os, const char *id, char **owner_out, struct err *err)
{
    const char *p[] = {id};
    PGresult *r;
    if (owner_out)
        *owner_out = NULL;
    int rc = run(os, SQL_CANCEL, 1, p, &r, err);
    if (rc < 0)
        return rc;
    if (strcmp(PQgetvalue(r, 0, 1), "t") != 0)
        rc = err_set(err, -OPSTORE_ENOTFOUND, "no task %s", id);
    else if (!PQgetisnull(r, 0, 0) && owner_out && !(*owner_out = strdup(PQgetvalue(r, 0, 0))))
        rc = err_set(err, -OPSTORE_ENOMEM, "out of memory");
    PQclear(r);
    return rc;
}

/* Set or clear a worker's draining flag. */
int opstore_drain(struct opstore *os, const char *id, bool draining, struct err *err)
{
    const char *p[] = {id, draining ? "true" : "false"};
    int n = 0;
    int rc = run_write(os, SQL_DRAIN, 2, p, &n, err);
    if (rc == 0 && n == 0)
        rc = err_set(err, -OPSTORE_ENOTFOUND, "no worker %s is registered", id);
    return rc;
}

/* Recent failures with their errors. */
int opstore_failures(struct opstore *os, int minutes, int max, json_t **out, struct err *err)
{
    char m[16], n[16];
    snprintf(m, sizeof(m), "%d", minutes);
    snprintf(n, sizeof(n), "%d", max);
    const char *p[] = {m, n};
    return run_json(os, SQL_FAILURES, 2, p, out, err);
}
