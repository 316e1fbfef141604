/*
 * fakepq.h - a scripted stand-in for libpq behind the store seam (common/store_seam.h).
 *
 * Give a store fakepq_ops (store_new_with_ops(), or store_seam_set_default_ops()
 * when the code under test calls store_new() itself), then script what each
 * statement answers, in order: rows, "n rows affected", an error with a
 * SQLSTATE, or a connection that breaks mid-statement.  Statements are named
 * by their STORE_STMT_* names; a plain exec() is named by its SQL text
 * ("SELECT 1" is store_ping()).  Every reply is consumed by one execution;
 * an execution with nothing scripted is answered by the statement's serve
 * function when it has one (fakepq_serve(): a reply computed from the
 * parameters, e.g. a tiny table that honours an owner condition), else
 * answers SQLSTATE XX000 and is counted (fakepq_unscripted()); an exec()
 * with nothing scripted succeeds.
 *
 * Single-threaded tests only (global state).  Results are real PGresults
 * built in memory, so the store's row reads are libpq's own; the fake keeps
 * their SQLSTATE, message and affected count beside them.
 * fakepq_live_results() and fakepq_open_conns() let a test prove that
 * nothing leaked.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_TEST_FAKEPQ_H
#define TASKWIRE_TEST_FAKEPQ_H

#include <libpq-fe.h>

#include "store.h"
#include "store_seam.h"

#define FAKEPQ_MAX_PARAMS 16 /* parameters remembered per statement */

/* Computes the reply to one execution of prepared statement 'stmt' from the nparams
 * parameters it was sent (params[i] NULL: SQL NULL; all borrowed for the call).
 * Returns a new PGRES_TUPLES_OK result (the fake takes ownership), e.g. from
 * fakepq_rows() or store_row_result(). */
typedef PGresult *fakepq_serve_fn(void *arg, const char *stmt, int nparams,
                                  const char *const *params);

/* The ops to give a store. */
extern const struct store_pq_ops fakepq_ops;

/* Forget every script, counter and remembered parameter.  Connections still
 * open stay usable (their stores finish them). */
void fakepq_reset(void);

/* Next reply of 'stmt': these rows (takes ownership of 'rows', a PGRES_TUPLES_OK result
 * such as store_row_result() makes). */
void fakepq_reply_rows(const char *stmt, PGresult *rows);
/* Next reply of 'stmt': rows[0..n) as a task result (STORE_ROW_TASK shape). */
void fakepq_reply_tasks(const char *stmt, const struct task_row *rows, int n);
/* Next reply of 'stmt': one row of 'n' text columns holding values[0..n) (NULL: SQL NULL). */
void fakepq_reply_row(const char *stmt, int n, const char *const *values);
/* Next reply of 'stmt': one row of one text column holding 'value'. */
void fakepq_reply_value(const char *stmt, const char *value);
/* Next reply of 'stmt': a command that affected 'n' rows (PGRES_COMMAND_OK). */
void fakepq_reply_affected(const char *stmt, int n);
/* Next reply of 'stmt': PGRES_FATAL_ERROR with 'sqlstate' (NULL: none, as for libpq's
 * own errors) and 'message' (NULL: a made-up one); the connection stays up. */
void fakepq_reply_error(const char *stmt, const char *sqlstate, const char *message);
/* Next reply of 'stmt': the connection breaks (status CONNECTION_BAD from now on) and
 * the statement fails without a SQLSTATE, as libpq reports a server that went away. */
void fakepq_reply_drop(const char *stmt);

/* Answer every execution of 'stmt' that finds no scripted reply with fn(arg, ...)
 * (NULL: stop).  Scripted replies, drops and broken connections come first. */
void fakepq_serve(const char *stmt, fakepq_serve_fn *fn, void *arg);
/* A new PGRES_TUPLES_OK result of 'nrows' rows of 'ncols' (1..FAKEPQ_MAX_PARAMS) text
 * columns, values[row * ncols + col] (NULL: SQL NULL); aborts when out of memory. */
PGresult *fakepq_rows(int ncols, int nrows, const char *const *values);

/* The next 'n' connects fail (CONNECTION_BAD with a message). */
void fakepq_fail_connects(int n);
/* The next prepare of 'stmt' fails with SQLSTATE 42P01 (an unmigrated schema). */
void fakepq_fail_prepare(const char *stmt);

/* Connects attempted since the last reset (failed ones too). */
int fakepq_connects(void);
/* Connections made and not finished yet. */
int fakepq_open_conns(void);
/* Prepares done since the last reset. */
int fakepq_prepares(void);
/* Executions of 'stmt' since the last reset. */
int fakepq_execs(const char *stmt);
/* Executions of prepared statements since the last reset, whatever their name. */
int fakepq_execs_prepared(void);
/* Parameters sent with the last execution of 'stmt' (0 when none ran). */
int fakepq_nparams(const char *stmt);
/* Parameter 'i' of the last execution of 'stmt', or NULL (SQL NULL, or no such execution). */
const char *fakepq_param(const char *stmt, int i);
/* Results handed out and not yet cleared. */
int fakepq_live_results(void);
/* Executions that found no reply scripted. */
int fakepq_unscripted(void);
/* Scripted replies not consumed yet (all statements). */
int fakepq_pending(void);

#endif
