/*
 * store_conn.h - the task store's connection: libpq through the seam, reconnects, SQLSTATEs.
 *
 * Private to common/store*.c.  Owns the one PGconn of a struct store: opens
 * it lazily, prepares the store's statements on it, and judges failed
 * results by SQLSTATE (a lost connection is dropped so the next call opens
 * a new one).  Knows no SQL of its own: store.c hands it the statements.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_STORE_CONN_H
#define TASKWIRE_STORE_CONN_H

#include <libpq-fe.h>

#include "err.h"
#include "store_seam.h"

/* One prepared statement. */
struct store_stmt {
    const char *name; /* prepared statement name (a STORE_STMT_* of store_seam.h) */
    const char *sql;  /* its text */
};

struct store {
    const struct store_pq_ops *pq; /* libpq, or a test's stand-in */
    PGconn *conn;                  /* NULL until the first call, or after a connection failure */
    char *dsn;                     /* libpq conninfo */
    char *app_name;                /* application_name shown in pg_stat_activity */
    char sqlstate[6];              /* SQLSTATE of the last failed statement, "" when none */
};

/* Open the connection if there is none and prepare stmts[0..n) on it.  0,
 * -STORE_EUNAVAILABLE (unreachable) or -STORE_EINTERNAL (a statement does not prepare). */
MUST_CHECK int store_conn_open(struct store *st, const struct store_stmt *stmts, int n,
                               struct err *err);
/* Judge and clear the failed result 'r' of statement 'what': -STORE_EUNAVAILABLE (the
 * connection was lost and is dropped), or the code its SQLSTATE maps to. */
int store_conn_fail(struct store *st, PGresult *r, const char *what, struct err *err);

#endif
