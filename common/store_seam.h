/*
 * store_seam.h - the test seam of the task store: libpq behind a table of functions.
 *
 * Production code never includes this.  A test gives a store its own
 * struct store_pq_ops (store_new_with_ops(), or store_seam_set_default_ops()
 * for stores that code under test creates with store_new()) and so decides
 * what every connect, prepare and statement returns: rows, "0 rows
 * affected", an error with any SQLSTATE, or a connection that drops.
 *
 * What a fake must know:
 *   - The store calls only the functions below on connections and on the
 *     results they produce; a fake may return any non-NULL PGconn pointer
 *     (the store never looks inside) and must hand out real PGresults,
 *     because rows are read with libpq's accessors (PQntuples, PQnfields,
 *     PQgetvalue, PQgetisnull).  PQmakeEmptyPGresult() plus
 *     PQsetResultAttrs()/PQsetvalue() build them in memory;
 *     store_row_result() (store_row.h) builds task rows in exactly the shape
 *     the statements return.  Error fields and the affected-row count of
 *     such results cannot be set through libpq, so the store asks the ops
 *     for them (result_error_field, result_error_message, cmd_tuples).
 *   - Every result the store receives it releases through 'clear'.
 *   - A connection whose 'status' is not CONNECTION_OK, or a failed result
 *     without a SQLSTATE or with class 08 or 57P, counts as lost: the store
 *     finishes it, connects again and re-sends the statement once.
 *   - Statements are prepared on every new connection under the names
 *     below, then run with exec_prepared under the same names; store_ping()
 *     uses exec("SELECT 1"), and each connection starts with one exec of
 *     its session settings.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_STORE_SEAM_H
#define TASKWIRE_STORE_SEAM_H

#include <libpq-fe.h>

#include "store.h"
#include "store_row.h"

/* Prepared statement names: what exec_prepared receives for each store call. */
#define STORE_STMT_CREATE        "tw_create"        /* store_task_create() */
#define STORE_STMT_CREATE_MANY   "tw_create_many"   /* store_task_create_many() */
#define STORE_STMT_GET           "tw_get"           /* store_task_get(); read-backs of others */
#define STORE_STMT_GET_BRIEF     "tw_get_brief"     /* store_task_get_brief() */
#define STORE_STMT_CANCEL        "tw_cancel"        /* store_task_cancel() */
#define STORE_STMT_CLAIM         "tw_claim"         /* store_task_claim() */
#define STORE_STMT_CLAIM_NEXT    "tw_claim_next"    /* store_task_claim_next() */
#define STORE_STMT_HEARTBEAT     "tw_heartbeat"     /* store_task_heartbeat() */
#define STORE_STMT_FINISH        "tw_finish"        /* store_task_finish() */
#define STORE_STMT_FINISH_CLAIM  "tw_finish_claim"  /* store_task_finish_claim() */
#define STORE_STMT_RELEASE       "tw_release"       /* store_task_release() */
#define STORE_STMT_SWEEP_LEASES  "tw_sweep_leases"  /* store_sweep(), first */
#define STORE_STMT_SWEEP_EXPIRED "tw_sweep_expired" /* store_sweep(), second */
#define STORE_STMT_REQUEST_INPUT "tw_request_input" /* store_task_request_input() */
#define STORE_STMT_ANSWER        "tw_answer"        /* store_task_answer() */
#define STORE_STMT_RETRY         "tw_retry"         /* store_task_retry() */
#define STORE_STMT_REDISPATCH    "tw_redispatch"    /* store_redispatch() */
#define STORE_STMT_QUEUE_STATS   "tw_queue_stats"   /* store_sweep(), third */
#define STORE_STMT_RECENT_IDS    "tw_recent_ids"    /* store_task_ids(), no prefix */
#define STORE_STMT_PREFIX_IDS    "tw_prefix_ids"    /* store_task_ids(), with a prefix */
#define STORE_STMT_END_INPUT     "tw_end_input"     /* store_task_end_input() */
#define STORE_STMT_LIST          "tw_list"          /* store_task_list() */
#define STORE_STMT_STATS_LEADER  "tw_stats_leader"  /* store_tool_stats(), first */
#define STORE_STMT_TOOL_STATS    "tw_tool_stats"    /* store_tool_stats(), second */

/* SQLSTATE of a unique violation: store_task_create() reads an existing id back. */
#define STORE_SQLSTATE_UNIQUE "23505"

/* Every libpq function the store calls on a connection or on the results it gets;
 * each has the signature and contract of the libpq function it is named after. */
struct store_pq_ops {
    PGconn *(*connect)(const char *const *keywords, const char *const *values,
                       int expand_dbname);            /* PQconnectdbParams */
    ConnStatusType (*status)(const PGconn *conn);     /* PQstatus */
    char *(*error_message)(const PGconn *conn);       /* PQerrorMessage */
    void (*finish)(PGconn *conn);                     /* PQfinish */
    PGresult *(*exec)(PGconn *conn, const char *sql); /* PQexec */
    PGresult *(*prepare)(PGconn *conn, const char *name, const char *sql, int nparams,
                         const Oid *types); /* PQprepare */
    PGresult *(*exec_prepared)(PGconn *conn, const char *name, int nparams,
                               const char *const *values, const int *lengths, const int *formats,
                               int result_format);             /* PQexecPrepared */
    ExecStatusType (*result_status)(const PGresult *r);        /* PQresultStatus */
    char *(*result_error_field)(const PGresult *r, int field); /* PQresultErrorField */
    char *(*result_error_message)(const PGresult *r);          /* PQresultErrorMessage */
    char *(*cmd_tuples)(PGresult *r);                          /* PQcmdTuples */
    void (*clear)(PGresult *r);                                /* PQclear */
};

/* The real thing: libpq itself (what store_new() uses unless a test says otherwise). */
extern const struct store_pq_ops store_pq_libpq;

/* store_new() over 'ops' (borrowed: it must outlive the store).  NULL when out of memory. */
struct store *store_new_with_ops(const char *dsn, const char *app_name,
                                 const struct store_pq_ops *ops);
/* Make later store_new() calls use 'ops' (NULL: libpq again).  Not thread-safe: call it
 * before the code under test starts threads. */
void store_seam_set_default_ops(const struct store_pq_ops *ops);

#endif
