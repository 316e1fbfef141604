/*
 * store_sql.h - the task store's SQL: one prepared statement per store call.
 *
 * Private to common/store*.c.  store_sql.c holds every statement text (the
 * select lists come from store_row.h); store.c runs them by number and reads
 * their results; store_conn.c prepares them on each new connection.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_STORE_SQL_H
#define TASKWIRE_STORE_SQL_H

#include "store_conn.h"

/* The statements, by number (store_stmts[] holds their names and texts). */
enum stmt {
    S_CREATE,
    S_CREATE_MANY,
    S_GET,
    S_GET_BRIEF,
    S_CANCEL,
    S_CLAIM,
    S_CLAIM_NEXT,
    S_HEARTBEAT,
    S_FINISH,
    S_FINISH_CLAIM,
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
    S_STATS_LEADER,
    S_TOOL_STATS,
    S_COUNT
};

/* Every statement: its prepared name (store_seam.h) and its text. */
extern const struct store_stmt store_stmts[S_COUNT];

#endif
