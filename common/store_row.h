/*
 * store_row.h - the columns the store selects and how they become a struct task_row.
 *
 * One X-macro list per result shape names each column once: its position
 * (an enum), its name, its SQL expression and the task_row field it fills.
 * The SELECT/RETURNING lists of common/store.c and the decoder here are
 * both generated from it, so they cannot drift apart.  Private to the store
 * and its tests (see store_seam.h); no I/O beyond reading a PGresult.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_STORE_ROW_H
#define TASKWIRE_STORE_ROW_H

#include <libpq-fe.h>

#include "err.h"
#include "store.h"

/* ISO 8601 UTC text of timestamp column 'col', to the millisecond. */
#define STORE_SQL_TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"
/* Timestamp column 'col' as exact Unix microseconds (the tasks/list position). */
#define STORE_SQL_US(col) "(extract(epoch FROM " col ") * 1000000)::bigint"
/* The ttlMs clients see: from creation to deletion (it grows when an outcome is stored). */
#define STORE_SQL_TTL(t) "(extract(epoch FROM " t "expires_at - " t "created_at) * 1000)::bigint"

/* How a column's text becomes a field of struct task_row. */
enum store_col_kind {
    STORE_COL_FIXED,    /* char array field; SQL NULL reads as "" (cut to the array) */
    STORE_COL_TEXT,     /* char * field, a new string; SQL NULL reads as NULL */
    STORE_COL_STATUS,   /* enum task_status, by its stored name */
    STORE_COL_INT,      /* int */
    STORE_COL_INT64,    /* int64_t */
    STORE_COL_PROGRESS, /* double 'progress'; not NULL sets has_progress */
    STORE_COL_TOTAL,    /* double 'progress_total'; read only when has_progress */
};

/*
 * A whole task: F(position, name, SQL, kind, field) for the first column and
 * N(...) for each further one (two macros, so a list can put commas between
 * its SQL expressions).
 */
#define STORE_TASK_COLUMNS(F, N)                                                                   \
    F(STORE_TASK_ID, "id", "id::text", STORE_COL_FIXED, id)                                        \
    N(STORE_TASK_STATUS, "status", "status", STORE_COL_STATUS, status)                             \
    N(STORE_TASK_OWNER, "owner", "owner", STORE_COL_TEXT, owner)                                   \
    N(STORE_TASK_TOOL, "tool", "tool", STORE_COL_TEXT, tool)                                       \
    N(STORE_TASK_ARGS, "args", "args::text", STORE_COL_TEXT, args)                                 \
    N(STORE_TASK_STATUS_MESSAGE, "status_message", "status_message", STORE_COL_TEXT,               \
      status_message)                                                                              \
    N(STORE_TASK_PROGRESS, "progress", "progress", STORE_COL_PROGRESS, progress)                   \
    N(STORE_TASK_PROGRESS_TOTAL, "progress_total", "progress_total", STORE_COL_TOTAL,              \
      progress_total)                                                                              \
    N(STORE_TASK_RESULT, "result", "result::text", STORE_COL_TEXT, result)                         \
    N(STORE_TASK_ERROR, "error", "error::text", STORE_COL_TEXT, error)                             \
    N(STORE_TASK_INPUT_REQUESTS, "input_requests", "input_requests::text", STORE_COL_TEXT,         \
      input_requests)                                                                              \
    N(STORE_TASK_INPUT_RESPONSES, "input_responses", "input_responses::text", STORE_COL_TEXT,      \
      input_responses)                                                                             \
    N(STORE_TASK_ATTEMPT, "attempt", "attempt", STORE_COL_INT, attempt)                            \
    N(STORE_TASK_CLAIM, "claim", "claim::text", STORE_COL_FIXED, claim)                            \
    N(STORE_TASK_MAX_ATTEMPTS, "max_attempts", "max_attempts", STORE_COL_INT, max_attempts)        \
    N(STORE_TASK_WORKER_ID, "worker_id", "worker_id", STORE_COL_TEXT, worker_id)                   \
    N(STORE_TASK_TRACE, "trace", "trace", STORE_COL_TEXT, trace)                                   \
    N(STORE_TASK_CREATED_AT, "created_at", STORE_SQL_TS("created_at"), STORE_COL_FIXED,            \
      created_at)                                                                                  \
    N(STORE_TASK_UPDATED_AT, "updated_at", STORE_SQL_TS("updated_at"), STORE_COL_FIXED,            \
      updated_at)                                                                                  \
    N(STORE_TASK_TTL_MS, "ttl_ms", STORE_SQL_TTL(""), STORE_COL_INT64, ttl_ms)                     \
    N(STORE_TASK_POLL_INTERVAL_MS, "poll_interval_ms", "poll_interval_ms", STORE_COL_INT64,        \
      poll_interval_ms)                                                                            \
    N(STORE_TASK_CLIENT_CAPS, "client_caps", "client_caps::text", STORE_COL_TEXT, client_caps)     \
    N(STORE_TASK_LOG, "log", "log::text", STORE_COL_TEXT, log)                                     \
    N(STORE_TASK_LOG_SEQ, "log_seq", "log_seq", STORE_COL_INT64, log_seq)                          \
    N(STORE_TASK_CREATED_US, "created_us", STORE_SQL_US("created_at"), STORE_COL_INT64, created_us)

/* What a re-push needs (store_redispatch()): the envelope is a hint, workers read the rest. */
#define STORE_DISPATCH_COLUMNS(F, N)                                                               \
    F(STORE_DISPATCH_ID, "id", "t.id::text", STORE_COL_FIXED, id)                                  \
    N(STORE_DISPATCH_TOOL, "tool", "t.tool", STORE_COL_TEXT, tool)                                 \
    N(STORE_DISPATCH_OWNER, "owner", "t.owner", STORE_COL_TEXT, owner)                             \
    N(STORE_DISPATCH_ATTEMPT, "attempt", "t.attempt", STORE_COL_INT, attempt)                      \
    N(STORE_DISPATCH_TRACE, "trace", "t.trace", STORE_COL_TEXT, trace)

#define STORE_COL_POS_(pos, name, sql, kind, field)       pos,
#define STORE_COL_SQL_FIRST_(pos, name, sql, kind, field) sql
#define STORE_COL_SQL_NEXT_(pos, name, sql, kind, field)  ", " sql

/* Column positions in results of each shape. */
enum store_task_col { STORE_TASK_COLUMNS(STORE_COL_POS_, STORE_COL_POS_) STORE_TASK_NCOLS };
enum store_dispatch_col {
    STORE_DISPATCH_COLUMNS(STORE_COL_POS_, STORE_COL_POS_) STORE_DISPATCH_NCOLS
};

/* The SQL select lists, as string literals for statement texts. */
#define STORE_TASK_SQL     STORE_TASK_COLUMNS(STORE_COL_SQL_FIRST_, STORE_COL_SQL_NEXT_)
#define STORE_DISPATCH_SQL STORE_DISPATCH_COLUMNS(STORE_COL_SQL_FIRST_, STORE_COL_SQL_NEXT_)

/* The result shapes a task row is read from. */
enum store_row_shape {
    STORE_ROW_TASK,     /* STORE_TASK_COLUMNS: every field */
    STORE_ROW_DISPATCH, /* STORE_DISPATCH_COLUMNS: id, tool, owner, attempt, trace */
    STORE_ROW_TASK_AND_ONE, /* STORE_TASK_COLUMNS, then one column the caller reads */
};

/* Fill *out (zeroed first) from row 'row' of 'r', a result of 'shape'.  0, or
 * -STORE_EINTERNAL (wrong shape, unknown status, out of memory) with *out zeroed. */
MUST_CHECK int store_row_read(const PGresult *r, int row, enum store_row_shape shape,
                              struct task_row *out, struct err *err);
/* 'n' rows as a new in-memory PGresult of 'shape' (for tests and fakes; PQclear() it;
 * STORE_ROW_TASK_AND_ONE's last column left empty), or NULL when out of memory. */
PGresult *store_row_result(enum store_row_shape shape, const struct task_row *rows, int n);

#endif
