/*
 * store_sql.c - every statement of the task store, prepared once per connection.
 *
 * Every write is one statement (one commit); worker writes are conditional
 * on (worker_id, claim, status), where claim is a token every claim draws
 * anew, so a stale worker or an earlier run of the same worker can never
 * overwrite an outcome.  Timestamps come from PostgreSQL's clock, never from ours.  Claims
 * honour a running cap per owner and take the queue in fair order
 * (fair_key, migration 0006); creates honour a cap on an owner's live tasks.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "store_sql.h"

#include "mcpdefs.h"
#include "store_row.h"
#include "store_seam.h"

/* A task is visible while it is live, and until its expiry once it is not. */
#define VISIBLE "(expires_at > now() OR status IN ('queued', 'running'))"
/* On an outcome, results are kept ttl_ms from now (never less than promised at creation). */
#define KEEP "expires_at = greatest(expires_at, now() + ttl_ms * interval '1 millisecond')"
#define ROW_COLS STORE_TASK_SQL
#define STORE_IDS_SCAN "1000" /* rows of one owner's id range store_task_ids() looks at */
#define OWNED                                                                                     \
    "id = $1::uuid AND worker_id = $2 AND claim::text = $3"                                     \
    " AND status IN ('running', 'input_required')"
#define LEASE(p) "now() + (" p "::bigint * interval '1 millisecond')"
/* The fair_key of a new task of owner p: after the owner's queued tasks, and never before
 * the smallest key queued now (a newcomer is served in the current round). */
#define FAIR_KEY(p)                                                                               \
    "greatest(coalesce((SELECT max(fair_key) + 1 FROM tasks WHERE owner = " p                     \
    " AND status = 'queued'), 0), coalesce((SELECT min(fair_key) FROM tasks"                      \
    " WHERE status = 'queued'), 0))"
/* Whether owner p has fewer than cap c tasks of status st, counting at most c (each live
 * status has its own partial index by owner: 0006, 0010). */
#define UNDER(p, st, c) "(SELECT count(*) FROM (SELECT 1 FROM tasks WHERE owner = " p \
    " AND status = '" st "' LIMIT " c ") l)"
/* How many live tasks owner p has, counting at most c of each live status. */
#define LIVE(p, c)                                                                                \
    UNDER(p, "queued", c) " + " UNDER(p, "running", c) " + " UNDER(p, "input_required", c)
#define INSERT_TASK                                                                               \
    "INSERT INTO tasks (id, owner, tool, args, trace, ttl_ms, poll_interval_ms, max_attempts,"   \
    " client_caps, input_responses, expires_at, fair_key)"
/* Columns c of every live row, one status at a time so that each is read through its
 * partial index (no index covers all three: a single IN list reads the whole table). */
#define LIVE_ROWS(c)                                                                              \
    "SELECT " c " FROM tasks WHERE status = 'queued' UNION ALL SELECT " c " FROM tasks"         \
    " WHERE status = 'running' UNION ALL SELECT " c " FROM tasks WHERE status = 'input_required'"
/* How many tasks owner expression o runs now (tasks_owner_running_idx). */
#define RUNNING_OF(o) "(SELECT count(*) FROM tasks r WHERE r.owner = " o " AND r.status = 'running')"
/* A claim by worker w with a lease of l ms: the attempt counted, a fresh claim token. */
#define CLAIM_SET(w, l)                                                                           \
    "status = 'running', worker_id = " w ", attempt = attempt + 1, claim = gen_random_uuid(),"    \
    " lease_until = " LEASE(l) ", updated_at = now()"
#define CLAIMABLE "status = 'queued' AND not_before <= now()"
/* An outcome: status $4, result $5 or error $6, message $7, progress $8 of $9, log $10. */
#define FINISH_SET                                                                                \
    "status = $4, result = $5::jsonb, error = $6::jsonb,"                                        \
    " status_message = coalesce($7, status_message), lease_until = NULL, claim = NULL,"          \
    " progress = coalesce($8::float8, progress),"                                                \
    " progress_total = coalesce($9::float8, progress_total)," LOG_APPEND("$10")                   \
    " updated_at = now(), " KEEP
#define FAIR_WINDOW "64" /* heads of the queue a claim looks at before it skips over owners */
#define STATS_LOCK "1952543595" /* advisory lock key of the per-tool statistics ("task") */
#define FAIR_PICK "8"    /* candidates locked in turn (SKIP LOCKED falls through to the next) */
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


const struct store_stmt store_stmts[S_COUNT] = {
    /* A new task goes after its owner's queued ones, never before the head of the
     * queue (FAIR_KEY); none when the owner has $11 live tasks already (0 rows). */
    [S_CREATE] = {STORE_STMT_CREATE,
                  INSERT_TASK " SELECT $1::uuid, $2, $3, $4::jsonb, $5, $6::bigint, $7::int,"
                  " $8::int, coalesce($9::jsonb, '{}'), $10::jsonb, " LEASE("$6") ", "
                  FAIR_KEY("$2")
                  " WHERE $11::int IS NULL OR " LIVE("$2", "$11::int") " < $11::int"
                  " RETURNING " ROW_COLS},
    /* S_CREATE for every element of JSON array $1 (keys as in x below; i orders them):
     * the k-th new task of an owner in the array comes k places after the one before
     * it and counts k more live tasks against the cap.  A duplicate id inserts
     * nothing (ON CONFLICT): the rows returned are the tasks inserted. */
    [S_CREATE_MANY] = {STORE_STMT_CREATE_MANY,
                       "WITH b AS (SELECT x.*, row_number() OVER (PARTITION BY x.owner ORDER BY"
                       " x.i) - 1 AS k FROM json_to_recordset($1::json) AS x(i int, id uuid,"
                       " owner text, tool text, args text, trace text, ttl bigint, poll int,"
                       " att int, caps text, answers text, live int)) " INSERT_TASK
                       " SELECT id, owner, tool, args::jsonb, trace, ttl, poll, att,"
                       " coalesce(caps::jsonb, '{}'), answers::jsonb, " LEASE("ttl") ", "
                       FAIR_KEY("b.owner") " + k FROM b WHERE live IS NULL OR "
                       LIVE("b.owner", "live") " + k < live ORDER BY i"
                       " ON CONFLICT (id) DO NOTHING RETURNING " ROW_COLS},
    [S_GET] = {STORE_STMT_GET, "SELECT " ROW_COLS " FROM tasks WHERE id = $1::uuid"
                         " AND ($2::text IS NULL OR owner = $2) AND " VISIBLE},
    /* S_GET from a view of the row without what tasks/get does not answer with (the
     * planner flattens it: the same index scan), so a poll never reads or sends the
     * arguments, the answers, the client's capabilities or the log. */
    [S_GET_BRIEF] = {STORE_STMT_GET_BRIEF,
                     "SELECT " ROW_COLS " FROM (SELECT id, status, owner, tool, NULL::jsonb AS args,"
                     " status_message, progress, progress_total, result, error, input_requests,"
                     " NULL::jsonb AS input_responses, attempt, claim, max_attempts, worker_id, trace,"
                     " created_at, updated_at, expires_at, poll_interval_ms,"
                     " NULL::jsonb AS client_caps, NULL::jsonb AS log, log_seq FROM tasks) tasks"
                     " WHERE id = $1::uuid AND ($2::text IS NULL OR owner = $2) AND " VISIBLE},
    [S_CANCEL] = {STORE_STMT_CANCEL,
                  "UPDATE tasks SET status = 'cancelled', status_message = 'cancelled by client',"
                  " worker_id = NULL, claim = NULL, lease_until = NULL, input_requests = NULL,"
                  " updated_at = now(), " KEEP " WHERE id = $1::uuid AND owner = $2 AND " VISIBLE
                  " AND status IN ('queued', 'running', 'input_required') RETURNING id"},
    /* A pushed task, unless its owner runs $4 tasks already (NULL: no cap). */
    [S_CLAIM] = {STORE_STMT_CLAIM, "UPDATE tasks t SET " CLAIM_SET("$2", "$3") " WHERE"
                                   " id = $1::uuid AND " CLAIMABLE " AND ($4::int IS NULL OR "
                                   RUNNING_OF("t.owner") " < $4::int) RETURNING " ROW_COLS},
    /* The fairest claimable task (lowest fair_key) of an owner running fewer than $3:
     * first among the FAIR_WINDOW heads of the queue; only when none of those is
     * eligible, among the head of every owner with queued work (a skip scan of
     * tasks_owner_fair_idx, which the One-Time Filter leaves unexecuted otherwise). */
    [S_CLAIM_NEXT] = {STORE_STMT_CLAIM_NEXT,
                      "WITH RECURSIVE capped AS (SELECT owner FROM tasks WHERE status = 'running'"
                      " GROUP BY owner HAVING count(*) >= $3::int),"
                      " win AS (SELECT id, owner FROM tasks WHERE status = 'queued'"
                      " AND not_before <= now() ORDER BY fair_key, created_at LIMIT " FAIR_WINDOW "),"
                      " ok AS (SELECT id FROM win WHERE owner NOT IN (SELECT owner FROM capped)"
                      " LIMIT " FAIR_PICK "),"
                      " owners(owner) AS ((SELECT owner FROM tasks WHERE status = 'queued'"
                      " ORDER BY owner LIMIT 1) UNION ALL SELECT (SELECT t.owner FROM tasks t"
                      " WHERE t.status = 'queued' AND t.owner > o.owner ORDER BY t.owner LIMIT 1)"
                      " FROM owners o WHERE o.owner IS NOT NULL),"
                      " far AS (SELECT h.id FROM owners o CROSS JOIN LATERAL (SELECT id, fair_key,"
                      " created_at FROM tasks t WHERE t.status = 'queued' AND t.owner = o.owner"
                      " AND t.not_before <= now() ORDER BY t.fair_key, t.created_at LIMIT 1) h"
                      " WHERE o.owner IS NOT NULL AND o.owner NOT IN (SELECT owner FROM capped)"
                      " ORDER BY h.fair_key, h.created_at LIMIT " FAIR_PICK "),"
                      " cand AS (SELECT id FROM ok UNION ALL SELECT id FROM far"
                      " WHERE NOT EXISTS (SELECT 1 FROM ok))"
                      " UPDATE tasks SET " CLAIM_SET("$1", "$2") " WHERE id = ("
                      "SELECT c.id FROM tasks c WHERE c.id IN (SELECT id FROM cand)"
                      " AND c.status = 'queued' AND c.not_before <= now()"
                      " ORDER BY c.fair_key, c.created_at LIMIT 1 FOR UPDATE OF c SKIP LOCKED)"
                      " RETURNING " ROW_COLS},
    [S_HEARTBEAT] = {STORE_STMT_HEARTBEAT,
                     "UPDATE tasks SET lease_until = " LEASE("$4") ","
                     " status_message = coalesce($5, status_message),"
                     " progress = coalesce($6::float8, progress),"
                     " progress_total = coalesce($7::float8, progress_total)," LOG_APPEND("$8")
                     " updated_at = CASE WHEN $5 IS NULL AND $6::float8 IS NULL"
                     " AND $8::jsonb IS NULL THEN updated_at ELSE now() END WHERE " OWNED},
    [S_FINISH] = {STORE_STMT_FINISH, "UPDATE tasks SET " FINISH_SET " WHERE " OWNED},
    /* S_FINISH, then S_CLAIM of pushed task $11 (lease $12, cap $13) in the same
     * commit; the finished task no longer counts as running for the cap.  One row:
     * the claimed task's columns (NULL when none was claimed), then whether the
     * outcome was stored. */
    [S_FINISH_CLAIM] = {STORE_STMT_FINISH_CLAIM,
                        "WITH f AS (UPDATE tasks SET " FINISH_SET " WHERE " OWNED " RETURNING owner),"
                        " c AS (UPDATE tasks t SET " CLAIM_SET("$2", "$12") " WHERE id = $11::uuid"
                        " AND " CLAIMABLE " AND ($13::int IS NULL OR " RUNNING_OF("t.owner")
                        " - (SELECT count(*) FROM f WHERE f.owner = t.owner) < $13::int)"
                        " RETURNING " ROW_COLS ")"
                        " SELECT c.*, EXISTS (SELECT 1 FROM f) FROM (SELECT 1) one LEFT JOIN c ON true"},
    [S_RELEASE] = {STORE_STMT_RELEASE,
                   "UPDATE tasks SET status = 'queued', worker_id = NULL, lease_until = NULL,"
                   " claim = NULL, attempt = attempt - 1, dispatched_at = now(), updated_at = now()"
                   " WHERE " OWNED},
    [S_SWEEP_LEASES] = {STORE_STMT_SWEEP_LEASES,
                        "UPDATE tasks t SET worker_id = NULL, lease_until = NULL, claim = NULL,"
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
                        " FROM (SELECT id FROM tasks WHERE status = 'running'"
                        " AND lease_until < now() AND pg_postmaster_start_time() < now() -"
                        " ($2::bigint * interval '1 millisecond')"
                        " LIMIT $1::int FOR UPDATE SKIP LOCKED) s"
                        " WHERE t.id = s.id RETURNING t.status, t.id::text"},
    [S_REQUEST_INPUT] = {STORE_STMT_REQUEST_INPUT,
                         "UPDATE tasks SET status = 'input_required', input_requests = $4::jsonb,"
                         " status_message = coalesce($5, 'waiting for input'), worker_id = NULL,"
                         " claim = NULL, lease_until = NULL, attempt = attempt - 1, updated_at = now()"
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
                 "UPDATE tasks SET worker_id = NULL, lease_until = NULL, claim = NULL,"
                 " updated_at = now(), dispatched_at = now(),"
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
    /* Whether this session holds the cluster's statistics lock (a session advisory
     * lock, so one process computes the per-tool gauges until its connection ends);
     * CASE keeps a held lock from being taken again. */
    [S_STATS_LEADER] = {STORE_STMT_STATS_LEADER,
                        "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
                        " AND pid = pg_backend_pid() AND classid = 0 AND objid = " STATS_LOCK
                        " AND objsubid = 1 AND granted) THEN true"
                        " ELSE pg_try_advisory_lock(" STATS_LOCK ") END"},
    /* Live tasks by tool: reads the live rows only (through the partial indexes of
     * each live status, 0006 and 0010), never the finished ones. */
    [S_TOOL_STATS] = {STORE_STMT_TOOL_STATS,
                      "SELECT tool, count(*) FILTER (WHERE status = 'queued'),"
                      " coalesce(extract(epoch FROM now() - min(created_at)"
                      " FILTER (WHERE status = 'queued')), 0),"
                      " count(*) FILTER (WHERE status = 'running'),"
                      " count(*) FILTER (WHERE status = 'input_required')"
                      " FROM (" LIVE_ROWS("tool, status, created_at") ") l GROUP BY tool"},
    [S_QUEUE_STATS] = {STORE_STMT_QUEUE_STATS,
                       "SELECT (SELECT count(*) FROM tasks WHERE status = 'queued'),"
                       " (SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)"
                       " FROM tasks WHERE status = 'queued'),"
                       " (SELECT count(*) FROM tasks WHERE status = 'running')"},
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
