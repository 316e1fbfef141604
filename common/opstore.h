/*
 * opstore.h - what operators read and change: the worker registry, the
 * outcome counts, and the cluster status.
 *
 * The tasks table belongs to common/store.h; this module holds the
 * statements of the operator's view (migration 0008): workers register and
 * refresh their row, add outcome counts and expire dead rows; the CLI and
 * the dashboard read one JSON document of the cluster's state, list and
 * show tasks, and drain workers.  Every read goes through a partial index or
 * a small table, never a scan of the whole tasks table.  Each struct opstore
 * owns one libpq connection, opened on first use and opened again once after
 * it drops; one thread at a time.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_OPSTORE_H
#define TASKWIRE_OPSTORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"

enum opstore_error {
    OPSTORE_EUNAVAILABLE = 1, /* PostgreSQL unreachable */
    OPSTORE_EQUERY,           /* PostgreSQL refused a statement (message in err) */
    OPSTORE_ENOTFOUND,        /* no such worker or task */
    OPSTORE_ENOMEM,           /* an allocation failed */
};

#define OPSTORE_LIST_MAX 500 /* most tasks one opstore_tasks() returns */

/* What a worker says about itself when it registers. */
struct opstore_worker {
    const char *id;      /* unique worker id */
    const char *host;    /* host name */
    const char *version; /* taskwire version */
    int slots;           /* slots */
    const char *tools;   /* the tools it runs, a JSON array: ["echo","sleep"] */
};

/* Filters of opstore_tasks(); NULL / 0 fields do not filter. */
struct opstore_filter {
    const char *status;   /* one status name */
    const char *tool;     /* tool name */
    const char *owner;    /* principal */
    int64_t min_age_s;    /* created at least this long ago */
    int64_t max_age_s;    /* created at most this long ago */
    int limit;            /* rows, 1..OPSTORE_LIST_MAX (0 = 50) */
};

struct opstore;

/* A store for 'dsn' (libpq conninfo, "" = PG* variables); connects lazily.  NULL only when
 * out of memory. */
struct opstore *opstore_new(const char *dsn, const char *app_name);
/* Close and free; NULL is a no-op. */
void opstore_free(struct opstore *os);

/* Insert or refresh worker w's row (busy 0, last seen now; draining kept). */
MUST_CHECK int opstore_register(struct opstore *os, const struct opstore_worker *w,
                                struct err *err);
/* Refresh worker 'id' (busy slots, last seen now) and read its draining flag;
 * -OPSTORE_ENOTFOUND when its row is gone (expired): register again. */
MUST_CHECK int opstore_refresh(struct opstore *os, const char *id, int busy, bool *draining,
                               struct err *err);
/* Remove worker 'id''s row (a clean stop). */
MUST_CHECK int opstore_deregister(struct opstore *os, const char *id, struct err *err);
/* Add outcome counts to this minute's and record failures: 'batch' is the JSON text
 * {"outcomes": [[tool, status, n]...], "failures": [[task id, tool, message]...]}. */
MUST_CHECK int opstore_add_outcomes(struct opstore *os, const char *batch, struct err *err);
/* Delete workers not seen for 'dead_ms', and outcome counts and failures older than an
 * hour; *removed is the number of workers deleted (may be NULL). */
MUST_CHECK int opstore_expire(struct opstore *os, int64_t dead_ms, int *removed,
                              struct err *err);

/* The cluster's state as a new JSON object (opstore.c documents its fields): per tool
 * queued, oldest queued age, running, input_required and outcomes of the last 'minutes';
 * the totals and failure rate; the workers. */
MUST_CHECK int opstore_status(struct opstore *os, int minutes, json_t **out, struct err *err);
/* Tasks matching 'f', newest first, as a new JSON array of summaries. */
MUST_CHECK int opstore_tasks(struct opstore *os, const struct opstore_filter *f, json_t **out,
                             struct err *err);
/* One task (any owner) as a new JSON object with its timeline; -OPSTORE_ENOTFOUND. */
MUST_CHECK int opstore_task(struct opstore *os, const char *id, json_t **out, struct err *err);
/* Cancel task 'id' of any owner; *owner_out (may be NULL, caller frees) is its owner
 * when this call cancelled it, NULL when it was terminal already; -OPSTORE_ENOTFOUND. */
MUST_CHECK int opstore_cancel(struct opstore *os, const char *id, char **owner_out,
                              struct err *err);
/* Set or clear worker 'id''s draining flag; -OPSTORE_ENOTFOUND when not registered. */
MUST_CHECK int opstore_drain(struct opstore *os, const char *id, bool draining,
                             struct err *err);
/* Recent failed tasks (last 'minutes', at most 'max') with their errors, as a new JSON
 * array, newest first. */
MUST_CHECK int opstore_failures(struct opstore *os, int minutes, int max, json_t **out,
                                struct err *err);

#endif
