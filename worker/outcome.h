/*
 * outcome.h - what a slot does when a run ends: store the outcome (with the
 * slot's next task claimed in the same commit), queue a retry, give the task
 * back at shutdown, or leave a parked or stopped task alone.
 *
 * Each call writes through the slot's own connection, then tells waiters
 * (Redis), the metrics, the registry and the log.  An outcome is retried
 * while PostgreSQL is unreachable, up to one lease; a write that finds the
 * task no longer the run's (cancelled, lease lost) changes nothing.  Runs on
 * the slot's thread; no lock of the runner is taken.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_OUTCOME_H
#define TASKWIRE_OUTCOME_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "fairclaim.h"
#include "notify.h"
#include "registry.h"
#include "store.h"
#include "toolctx.h"

/* The slot a run ended on (all borrowed). */
struct outcome_slot {
    struct store *store;    /* its PostgreSQL connection */
    struct notify_pub *pub; /* its change-event publisher */
    struct registry *reg;   /* the worker's registry (outcome counts) */
    struct fairclaim *fair; /* the worker's claim policy (the next claim's fallback) */
    const char *worker_id;  /* the worker */
    int64_t lease_ms;       /* lease of a claim; how long an outcome is retried */
    double seconds;         /* how long the run took */
    struct toolctx_state *tool; /* the run's state: its last progress and unwritten logs */
    /* A pushed task to claim in the outcome's commit, with its running cap: false when
     * there is none (the runner's held envelopes; called once, only for an outcome). */
    bool (*take_next)(void *arg, char *id, int *cap);
    void *take_next_arg;
};

/* Act on what the run of 'row' left ('out', the tool's 'result' or 'error', both
 * taken over; 'shutdown': the worker stopped the tool to shut down).  True when an
 * outcome's commit also claimed a task into *next (the caller runs it and owns it). */
bool outcome_settle(const struct outcome_slot *os, const struct task_row *row,
                    const struct toolctx_outcome *out, bool shutdown, json_t *result,
                    json_t *error, struct task_row *next);
/* Give 'row' back to the queue without counting the attempt (shutdown). */
void outcome_release(const struct outcome_slot *os, const struct task_row *row);

#endif
