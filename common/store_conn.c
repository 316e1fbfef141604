/*
 * store_conn.c - the task store's connection: libpq through the seam, reconnects, SQLSTATEs.
 *
 * Every libpq call on a connection goes through st->pq (store_seam.h), so
 * tests can make any of them fail.  Failures are told apart by SQLSTATE,
 * never by message text.  Not thread-safe: a store belongs to one thread.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "store_conn.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"

METRIC_DEFINE(m_pg_conn_ok, METRIC_COUNTER, "taskwire_postgres_connects_total", "result=\"ok\"",
              "Connections to PostgreSQL opened (more than one per pool: reconnects)");
METRIC_DEFINE(m_pg_conn_err, METRIC_COUNTER, "taskwire_postgres_connects_total",
              "result=\"error\"", "Connections to PostgreSQL opened (more than one per pool: reconnects)");
METRIC_DEFINE(m_pg_lost, METRIC_COUNTER, "taskwire_postgres_errors_total", "kind=\"connection\"",
              "Failed PostgreSQL statements: connection lost or statement refused");
METRIC_DEFINE(m_pg_stmt, METRIC_COUNTER, "taskwire_postgres_errors_total", "kind=\"statement\"",
              "Failed PostgreSQL statements: connection lost or statement refused");

/* Register the PostgreSQL connection metrics.  Call once, at start-up. */
void store_metrics_register(void)
{
    metrics_register(&m_pg_conn_ok);
    metrics_register(&m_pg_conn_err);
    metrics_register(&m_pg_lost);
    metrics_register(&m_pg_stmt);
}

/* What a failed statement means, by SQLSTATE class (PostgreSQL manual, Appendix A). */
static const struct {
    const char *prefix; /* a SQLSTATE class, or a longer prefix */
    int code;           /* what the caller is told */
} sqlstate_codes[] = {
    {"08", -STORE_EUNAVAILABLE},  /* connection exception */
    {"57P", -STORE_EUNAVAILABLE}, /* admin/crash shutdown, cannot connect now, ... */
    {"22", -STORE_EINVALID},      /* data exception: bad JSON, bad uuid */
    {"23", -STORE_EINVALID},      /* integrity constraint violation (23505: duplicate key) */
};

const struct store_pq_ops store_pq_libpq = {
    .connect = PQconnectdbParams,
    .status = PQstatus,
    .error_message = PQerrorMessage,
    .finish = PQfinish,
    .exec = PQexec,
    .prepare = PQprepare,
    .exec_prepared = PQexecPrepared,
    .result_status = PQresultStatus,
    .result_error_field = PQresultErrorField,
    .result_error_message = PQresultErrorMessage,
    .cmd_tuples = PQcmdTuples,
    .clear = PQclear,
};

/* The settings of every store session. */
#define SESSION_SQL                                                                              \
    "SET statement_timeout = '10s'; SET lock_timeout = '5s';"                                     \
    " SET plan_cache_mode = force_generic_plan"

/* Set once at start-up (store_set_relaxed_commit()), before any store connects. */
static bool relaxed_commit;

/*
 * Commit on every store connected from now on without waiting for the WAL
 * flush (synchronous_commit = off): the opt-in relaxed mode (README), where a
 * PostgreSQL crash may lose the last acknowledged writes.  Call before the
 * threads start; not thread-safe.
 */
void store_set_relaxed_commit(bool on)
{
    relaxed_commit = on;
    if (on)
        LOG_WARN("relaxed commit (TASKWIRE_RELAXED_COMMIT=true): task writes do not wait for "
                 "PostgreSQL's WAL flush; a PostgreSQL crash may lose the last acknowledged "
                 "tasks and outcomes");
}

/* What store_new() uses; only tests change it (store_seam_set_default_ops()). */
static const struct store_pq_ops *default_ops = &store_pq_libpq;

/*
 * A store over 'ops' that connects on first use.  'ops' is borrowed and must
 * outlive the store.  Returns NULL only when out of memory.  The store is not
 * thread-safe: give each thread its own.
 */
struct store *store_new_with_ops(const char *dsn, const char *app_name,
                                 const struct store_pq_ops *ops)
{
    struct store *st = calloc(1, sizeof(*st));
    if (!st)
        return NULL;
    st->pq = ops;
    st->dsn = strdup(dsn ? dsn : "");
    st->app_name = strdup(app_name ? app_name : "taskwire");
    if (!st->dsn || !st->app_name) {
        store_free(st);
        return NULL;
    }
    return st;
}

/*
 * A store for 'dsn' (libpq conninfo; "" uses the PG* environment variables)
 * that connects on first use and shows 'app_name' in pg_stat_activity.
 * Returns NULL only when out of memory.  Not thread-safe: one per thread.
 */
struct store *store_new(const char *dsn, const char *app_name)
{
    return store_new_with_ops(dsn, app_name, default_ops);
}

/*
 * Make store_new() use 'ops' from now on (NULL: libpq).  For tests only; not
 * thread-safe, and stores made before keep what they have.
 */
void store_seam_set_default_ops(const struct store_pq_ops *ops)
{
    default_ops = ops ? ops : &store_pq_libpq;
}

/* Close the connection (if any) and free the store; NULL is a no-op. */
void store_free(struct store *st)
{
    if (!st)
        return;
    if (st->conn)
        st->pq->finish(st->conn);
    free(st->dsn);
    free(st->app_name);
    free(st);
}

static void drop_conn(struct store *st)
{
    if (st->conn)
        st->pq->finish(st->conn);
    st->conn = NULL;
}

/* The first line of a libpq message, as a printf precision. */
static int first_line_len(const char *msg)
{
    return (int)strcspn(msg, "\n");
}

/*
 * Open the connection if there is none: connect (5 s timeout), set the
 * session's statement and lock timeouts, and prepare stmts[0..n).  Returns
 * 0, -STORE_EUNAVAILABLE when PostgreSQL cannot be reached, or
 * -STORE_EINTERNAL when a statement does not prepare (schema not migrated);
 * on failure no connection is kept.  'stmts' is borrowed.
 */
int store_conn_open(struct store *st, const struct store_stmt *stmts, int n, struct err *err)
{
    const char *keys[] = {"dbname", "application_name", "connect_timeout", NULL};
    const char *vals[] = {st->dsn, st->app_name, "5", NULL};

    if (st->conn)
        return 0;
    /* expand_dbname=1: the dsn is parsed as a conninfo string; later keys
     * only fill what it left out. */
    st->conn = st->pq->connect(keys, vals, 1);
    if (!st->conn || st->pq->status(st->conn) != CONNECTION_OK) {
        const char *msg = st->conn ? st->pq->error_message(st->conn) : "out of memory";
        err_set(err, -STORE_EUNAVAILABLE, "database unreachable: %.*s", first_line_len(msg), msg);
        metrics_add(&m_pg_conn_err, 1);
        drop_conn(st);
        return -STORE_EUNAVAILABLE;
    }
    metrics_add(&m_pg_conn_ok, 1);
    /* Generic plans: the store's statements look rows up by key or read the partial
     * indexes by their literal predicates, so a parameter never changes the right plan,
     * and statements with an optional parameter ("$n IS NULL OR ...") were planned again
     * at every execution under the default plan_cache_mode (README, Performance). */
    st->pq->clear(st->pq->exec(st->conn, relaxed_commit ? SESSION_SQL "; SET synchronous_commit = off"
                                                        : SESSION_SQL));
    for (int i = 0; i < n; i++) {
        PGresult *r = st->pq->prepare(st->conn, stmts[i].name, stmts[i].sql, 0, NULL);
        if (st->pq->result_status(r) != PGRES_COMMAND_OK) {
            const char *msg = st->pq->result_error_message(r);
            int rc = err_set(err, -STORE_EINTERNAL, "prepare %s: %.*s (schema not migrated?)",
                             stmts[i].name, first_line_len(msg), msg);
            st->pq->clear(r);
            drop_conn(st);
            return rc;
        }
        st->pq->clear(r);
    }
    return 0;
}

/* The code for a failed statement's SQLSTATE: -STORE_EUNAVAILABLE when it says
 * the connection is gone (no SQLSTATE at all: libpq's own error, the same),
 * -STORE_EINVALID for refused values, else -STORE_EINTERNAL. */
static int sqlstate_code(const char *state)
{
    if (!state)
        return -STORE_EUNAVAILABLE;
    for (size_t i = 0; i < sizeof(sqlstate_codes) / sizeof(sqlstate_codes[0]); i++)
        if (strncmp(state, sqlstate_codes[i].prefix, strlen(sqlstate_codes[i].prefix)) == 0)
            return sqlstate_codes[i].code;
    return -STORE_EINTERNAL;
}

/*
 * Judge the failed result 'r' (may be NULL) of statement 'what' and clear
 * it.  When the connection is gone or going (its status is not OK, or the
 * SQLSTATE is missing or of class 08 or 57P) it is dropped and the result is
 * -STORE_EUNAVAILABLE ("database connection lost"); the caller may retry,
 * which reconnects.  Otherwise the SQLSTATE is kept in st->sqlstate and its
 * code returned: -STORE_EINVALID (classes 22, 23) or -STORE_EINTERNAL, with
 * 'err' quoting the first line of PostgreSQL's message.
 */
int store_conn_fail(struct store *st, PGresult *r, const char *what, struct err *err)
{
    const char *state = r ? st->pq->result_error_field(r, PG_DIAG_SQLSTATE) : NULL;
    int rc = sqlstate_code(state);

    if (st->pq->status(st->conn) != CONNECTION_OK || rc == -STORE_EUNAVAILABLE) {
        st->pq->clear(r);
        drop_conn(st);
        metrics_add(&m_pg_lost, 1);
        return err_set(err, -STORE_EUNAVAILABLE, "database connection lost");
    }
    const char *msg = st->pq->result_error_message(r);
    snprintf(st->sqlstate, sizeof(st->sqlstate), "%s", state);
    metrics_add(&m_pg_stmt, 1);
    err_set(err, rc, "%s: %.*s", what, first_line_len(msg), msg);
    st->pq->clear(r);
    return rc;
}
