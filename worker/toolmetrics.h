/*
 * toolmetrics.h - the worker's metrics labelled by tool.
 *
 * One series per catalog tool, made at start-up: a tool name that is not in
 * the catalog (a stale row, a tool removed since) is never a label value, its
 * observations are dropped.  The cluster-wide gauges by tool are shown only
 * by the worker whose sweeper holds the statistics lock (store_tool_stats).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_TOOLMETRICS_H
#define TASKWIRE_TOOLMETRICS_H

#include <stdbool.h>

#include "catalog.h"
#include "err.h"
#include "store.h"
#include "trace.h"

#define TOOLMETRICS_ENOMEM 1 /* returned negated: out of memory */

/* How one run of a tool ended, as far as this worker is concerned. */
enum toolmetrics_outcome {
    TOOLMETRICS_COMPLETED, /* result stored */
    TOOLMETRICS_FAILED,    /* error stored (or no attempts left) */
    TOOLMETRICS_RETRIED,   /* queued again after a retryable failure */
    TOOLMETRICS_STOPPED,   /* stopped: cancelled or lease lost */
    TOOLMETRICS_OUTCOMES
};

/* Register the worker's metrics, with series for every tool of 'catalog', and set
 * the slots gauge to 'slots'.  Call once, at start-up.  0 or -TOOLMETRICS_ENOMEM. */
MUST_CHECK int toolmetrics_init(const struct catalog *catalog, int slots);
/* 'busy' slots are running a task now. */
void toolmetrics_busy(int busy);
/* An envelope named a task that was no longer queued. */
void toolmetrics_claim_missed(void);
/* 'held' envelopes wait in the worker for a slot. */
void toolmetrics_held(int held);
/* A task was claimed in the commit of the slot's previous outcome. */
void toolmetrics_claim_joined(void);
/* A task of 'tool' created at 'created_us' (Unix microseconds) was claimed now. */
void toolmetrics_claimed(const char *tool, int64_t created_us);
/* A run of 'tool' took 'seconds' and ended with 'outcome' (also counted without the
 * tool label, so a tool outside the catalog is still counted there). */
void toolmetrics_ran(const char *tool, double seconds, enum toolmetrics_outcome outcome);
/* Export the spans of a run of 'tool' in trace 't' (the run's span): "queue wait" from
 * 'created_us' (Unix microseconds) to the claim, 'run_seconds' ago, and "tool run" from
 * the claim to now.  Nothing when span export is off. */
void toolmetrics_spans(const struct trace_ctx *t, const char *tool, int64_t created_us,
                       double run_seconds);
/* Take the live tasks of one tool from a statistics pass (a store_tool_stats_fn). */
void toolmetrics_stats_tool(void *arg, const struct tool_stats *s);
/* End a statistics pass: with 'leader' (this worker computed the cluster's gauges by
 * tool) publish what the pass took, 0 for the tools it did not name; else hide them. */
void toolmetrics_stats_end(bool leader);

#endif
