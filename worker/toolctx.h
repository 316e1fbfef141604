/*
 * toolctx.h - the tool API of tools.h, backed by one run's shared state.
 *
 * The runner gives each run a struct tool_ctx (the claimed task row, the
 * slot's store connection and publisher) and a struct toolctx_state that it
 * shares with its own threads: through the tool API the tool records
 * progress and log messages, asks for a retry or parks the task for input;
 * the heartbeat takes coalesced progress and logs with toolctx_state_beat();
 * cancel events, a lost lease and shutdown call toolctx_state_stop().  This
 * module does not pick or run tools, renew leases or store outcomes
 * (worker/runner.c does).  Invariant: a toolctx_state's fields are only
 * touched under its own mutex, never held across a database or network call,
 * and never while taking another lock.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_TOOLCTX_H
#define TASKWIRE_TOOLCTX_H

#include <jansson.h>
#include <pthread.h>
#include <stdbool.h>

#include "trace.h"
#include "err.h"
#include "notify.h"
#include "store.h"
#include "tools.h"

#define TOOLCTX_TEXT_MAX 255  /* bytes kept of a status message or a retry reason */
#define TOOLCTX_LOG_MAX  2048 /* bytes of one log message (larger data is replaced) */

enum toolctx_error {
    TOOLCTX_ESYS = 1, /* a mutex or condition variable could not be initialised */
};

/* What a running tool shares with the runner's threads; every field under 'mu'. */
struct toolctx_state {
    pthread_mutex_t mu;                 /* guards the fields below */
    pthread_cond_t cv;                  /* broadcast when 'stop' is set (monotonic clock) */
    bool stop;                          /* cancelled, lease lost or shutting down */
    bool parked;                        /* the task waits for input; the slot is free again */
    bool dirty;                         /* progress changed since the heartbeat took it */
    double progress, total;             /* last progress and total reported */
    char message[TOOLCTX_TEXT_MAX + 1]; /* last status message, valid UTF-8 */
    char retry[TOOLCTX_TEXT_MAX + 1];   /* non-empty: the tool asked for a retry, why */
    json_t *logs;                       /* log messages not written yet (array), or NULL */
};

/* What the heartbeat takes from a run in one go (toolctx_state_beat()). */
struct toolctx_beat {
    bool live;                          /* neither stopped nor parked: the lease is wanted */
    bool with_progress;                 /* progress was due and changed: the fields below */
    double progress, total;             /* the progress taken */
    char message[TOOLCTX_TEXT_MAX + 1]; /* the status message, "" when none */
    char *logs;                         /* log messages taken (JSON array text, the caller
                                           frees it), or NULL */
};

/* How a run ended, as the tool API recorded it (toolctx_state_outcome()). */
struct toolctx_outcome {
    bool stopped;                     /* stopped by the runner (cancel, lease, shutdown) */
    bool parked;                      /* parked for input */
    char retry[TOOLCTX_TEXT_MAX + 1]; /* non-empty: a retry was asked for, with this reason */
};

/* One run of one tool: what the tool API functions of tools.h see. */
struct tool_ctx {
    struct toolctx_state *state; /* shared with the runner (borrowed) */
    const struct task_row *row;  /* the claimed task (borrowed) */
    json_t *args;                /* its arguments (owned), NULL when the stored text is not JSON */
    json_t *caps;                /* client capabilities at creation (owned), or NULL */
    struct store *store;         /* where input requests are written (borrowed) */
    struct notify_pub *pub;      /* where changes are announced (borrowed; NULL: nowhere) */
    const char *worker_id;       /* this worker, the owner of the task (borrowed) */
    const struct trace_ctx *trace; /* this run's span (borrowed), or NULL */
};

/* Initialise a state (idle, not stopped); 0 or -TOOLCTX_ESYS. */
MUST_CHECK int toolctx_state_init(struct toolctx_state *st, struct err *err);
/* Release what toolctx_state_init() made. */
void toolctx_state_fini(struct toolctx_state *st);
/* Clear everything a previous run left, before a new run starts. */
void toolctx_state_reset(struct toolctx_state *st);
/* Stop the tool: tool_cancelled() turns true and tool_sleep_ms() returns at once. */
void toolctx_state_stop(struct toolctx_state *st);
/* The heartbeat's view; takes (and clears) changed progress when 'progress_due'. */
void toolctx_state_beat(struct toolctx_state *st, bool progress_due, struct toolctx_beat *out);
/* The outcome flags once the tool returned. */
void toolctx_state_outcome(struct toolctx_state *st, struct toolctx_outcome *out);
/* The last progress to store with the outcome: *progress -1 when unchanged since a beat. */
void toolctx_state_last_progress(struct toolctx_state *st, double *progress, double *total);
/* The log messages not written yet as JSON array text (the caller frees it), or NULL. */
char *toolctx_state_take_logs(struct toolctx_state *st);

/* Set up 'ctx' for a run of 'row' (borrowed, like every pointer given); parses
 * the arguments and client capabilities.  Release with toolctx_fini(). */
void toolctx_init(struct tool_ctx *ctx, struct toolctx_state *st, const struct task_row *row,
                  struct store *store, struct notify_pub *pub, const char *worker_id);
/* Release what toolctx_init() parsed. */
void toolctx_fini(struct tool_ctx *ctx);

#endif
