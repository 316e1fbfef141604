/*
 * toolmetrics.c - the worker's metrics labelled by tool: run durations,
 * queue waits, outcomes, and the cluster-wide gauges by tool.
 *
 * The label values are the catalog's tool names, fixed at start-up
 * (metrics_set); everything else is dropped.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "toolmetrics.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "metrics.h"
#include "otlp.h"

METRIC_DEFINE(m_busy, METRIC_GAUGE, "taskwire_worker_slots_busy", NULL, "Slots running a task");
METRIC_DEFINE(m_slots, METRIC_GAUGE, "taskwire_worker_slots", NULL, "Slots of this worker");
METRIC_DEFINE(m_done, METRIC_COUNTER, "taskwire_tasks_finished_total", "status=\"completed\"",
              "Task outcomes written by this worker");
METRIC_DEFINE(m_failed, METRIC_COUNTER, "taskwire_tasks_finished_total", "status=\"failed\"",
              "Task outcomes written by this worker");
METRIC_DEFINE(m_retried, METRIC_COUNTER, "taskwire_tasks_retried_total", NULL,
              "Attempts that ended with a retryable failure and were queued again");
METRIC_DEFINE(m_stopped, METRIC_COUNTER, "taskwire_tasks_stopped_total", NULL,
              "Tools stopped because their task was cancelled or its lease lost");
METRIC_DEFINE(m_claim_miss, METRIC_COUNTER, "taskwire_claims_missed_total", NULL,
              "Envelopes whose task was no longer queued (duplicate, cancelled, claimed)");
METRIC_DEFINE(m_held, METRIC_GAUGE, "taskwire_worker_envelopes_held", NULL,
              "Envelopes received while every slot was busy, held for the next slot to free");
METRIC_DEFINE(m_claim_joined, METRIC_COUNTER, "taskwire_claims_with_outcome_total", NULL,
              "Tasks claimed in the commit of the slot's previous outcome (under load)");

static struct metric *const plain[] = {
    &m_busy, &m_slots, &m_done, &m_failed, &m_stopped, &m_retried, &m_claim_miss, &m_claim_joined, &m_held,
};
/* The unlabelled counter of each outcome. */
static struct metric *const outcome_plain[TOOLMETRICS_OUTCOMES] = {
    &m_done,
    &m_failed,
    &m_retried,
    &m_stopped,
};

static struct metric_set run_s, wait_s, out_s[TOOLMETRICS_OUTCOMES];
static struct metric_set queued_s, age_s, running_s, input_s;
static struct tool_stats *pending; /* the statistics pass in progress, one entry per tool
                                      (tool != NULL: named by the pass) */

static const char *const outcome_labels[TOOLMETRICS_OUTCOMES] = {
    "status=\"completed\"",
    "status=\"failed\"",
    "status=\"retried\"",
    "status=\"stopped\"",
};

#define OUTCOMES_HELP "Runs of each tool on this worker, by how they ended"

/* The cluster-wide gauges by tool: name, help, set. */
static const struct {
    const char *name;       /* metric name */
    const char *help;       /* # HELP */
    struct metric_set *set; /* its series */
} gauges[] = {
    {"taskwire_tool_queue_depth", "Tasks of each tool queued for a worker, cluster-wide",
     &queued_s},
    {"taskwire_tool_queue_oldest_age_seconds",
     "Age of the oldest queued task of each tool, cluster-wide", &age_s},
    {"taskwire_tool_tasks_running", "Tasks of each tool held by a worker, cluster-wide",
     &running_s},
    {"taskwire_tool_tasks_input_required",
     "Tasks of each tool waiting for the client's input, cluster-wide", &input_s},
};

/* The catalog's tool names, in tools/list order, into a new array (*n entries); NULL
 * when out of memory.  The strings belong to 'list'. */
static const char **tool_names(json_t *list, int *n)
{
    *n = (int)json_array_size(list);
    const char **names = calloc((size_t)(*n ? *n : 1), sizeof(*names));
    if (!names)
        return NULL;
    for (int i = 0; i < *n; i++)
        names[i] = json_string_value(json_object_get(json_array_get(list, (size_t)i), "name"));
    return names;
}

/* Register every set over the names keys[0..n). */
static int init_sets(const char *const *keys, int n)
{
    int rc = metrics_set_init(&run_s, METRIC_HISTOGRAM, "taskwire_task_duration_seconds",
                              "Time from claim to outcome of a task's run, by tool", "tool", NULL,
                              keys, n, metrics_bounds_slow, METRICS_NBOUNDS(metrics_bounds_slow));
    if (rc == 0)
        rc = metrics_set_init(&wait_s, METRIC_HISTOGRAM, "taskwire_queue_wait_seconds",
                              "Time from a task's creation to its claim, by tool", "tool", NULL,
                              keys, n, metrics_bounds_slow, METRICS_NBOUNDS(metrics_bounds_slow));
    for (int i = 0; rc == 0 && i < TOOLMETRICS_OUTCOMES; i++)
        rc = metrics_set_init(&out_s[i], METRIC_COUNTER, "taskwire_tool_runs_total", OUTCOMES_HELP,
                              "tool", outcome_labels[i], keys, n, NULL, 0);
    for (size_t i = 0; rc == 0 && i < sizeof(gauges) / sizeof(gauges[0]); i++) {
        rc = metrics_set_init(gauges[i].set, METRIC_GAUGE, gauges[i].name, gauges[i].help, "tool",
                              NULL, keys, n, NULL, 0);
        if (rc == 0)
            metrics_set_hide(gauges[i].set, true);
    }
    return rc;
}

/* Build the per-tool series from the catalog; a catalog without tools makes empty sets. */
int toolmetrics_init(const struct catalog *catalog, int slots)
{
    for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
        metrics_register(plain[i]);
    metrics_set(&m_slots, slots);
    json_t *list = catalog_list(catalog);
    int n = 0;
    const char **names = list ? tool_names(list, &n) : NULL;
    int rc = names ? init_sets(names, n) : -METRICS_ENOMEM;
    if (rc == 0 && !(pending = calloc((size_t)(n ? n : 1), sizeof(*pending))))
        rc = -METRICS_ENOMEM;
    free(names);
    json_decref(list);
    return rc < 0 ? -TOOLMETRICS_ENOMEM : 0;
}

/* One span of the run's trace, parented to the frontend's span that created the task. */
static void emit(const struct trace_ctx *t, const char *span_id, const char *name, const char *tool,
                 int64_t start_us, int64_t end_us)
{
    struct otlp_span sp = {.start_us = start_us, .end_us = end_us, .attr_key = "taskwire.tool"};
    memcpy(sp.trace_id, t->trace_id, sizeof(sp.trace_id));
    memcpy(sp.span_id, span_id, sizeof(sp.span_id));
    memcpy(sp.parent_id, t->caller, sizeof(sp.parent_id));
    snprintf(sp.name, sizeof(sp.name), "%s", name);
    snprintf(sp.attr_value, sizeof(sp.attr_value), "%s", tool);
    otlp_emit(&sp);
}

/* Export the run's queue wait and tool run spans. */
void toolmetrics_spans(const struct trace_ctx *t, const char *tool, int64_t created_us,
                       double run_seconds)
{
    int64_t now_us = clock_wall_ms() * 1000;
    int64_t claim_us = now_us - (int64_t)(run_seconds * 1e6);
    char wait_span[TRACE_SPAN_LEN + 1];
    trace_new_span_id(wait_span);
    if (created_us > 0 && created_us <= claim_us)
        emit(t, wait_span, "queue wait", tool, created_us, claim_us);
    emit(t, t->span_id, "tool run", tool, claim_us, now_us);
}

/* Set the busy slots gauge. */
void toolmetrics_busy(int busy)
{
    metrics_set(&m_busy, busy);
}

/* Count an envelope whose task was gone. */
void toolmetrics_claim_missed(void)
{
    metrics_add(&m_claim_miss, 1);
}

/* Set the held envelopes gauge. */
void toolmetrics_held(int held)
{
    metrics_set(&m_held, held);
}

/* Count a task claimed in the commit of an outcome. */
void toolmetrics_claim_joined(void)
{
    metrics_add(&m_claim_joined, 1);
}

/* Observe the queue wait of a task of 'tool' claimed now. */
void toolmetrics_claimed(const char *tool, int64_t created_us)
{
    struct metric *m = metrics_set_get(&wait_s, tool);
    if (m && created_us > 0)
        metrics_observe(m, (double)(clock_wall_ms() * 1000 - created_us) / 1e6);
}

/* Observe one run of 'tool'. */
void toolmetrics_ran(const char *tool, double seconds, enum toolmetrics_outcome outcome)
{
    if ((unsigned)outcome < TOOLMETRICS_OUTCOMES)
        metrics_add(outcome_plain[outcome], 1);
    struct metric *m = metrics_set_get(&run_s, tool);
    if (m)
        metrics_observe(m, seconds);
    if ((unsigned)outcome < TOOLMETRICS_OUTCOMES && (m = metrics_set_get(&out_s[outcome], tool)))
        metrics_add(m, 1);
}

/* Take one tool's live tasks into the pending pass; a tool outside the catalog is
 * skipped.  Only the sweeper's thread calls this. */
void toolmetrics_stats_tool(void *arg, const struct tool_stats *s)
{
    (void)arg;
    struct metric *m = metrics_set_get(&queued_s, s->tool);
    if (!m || !pending)
        return;
    struct tool_stats *p = &pending[m - queued_s.m];
    *p = *s;
    p->tool = "";
}

/* Publish the pending pass (leader) or hide the gauges; start a new pass. */
void toolmetrics_stats_end(bool leader)
{
    for (size_t i = 0; i < sizeof(gauges) / sizeof(gauges[0]); i++)
        metrics_set_hide(gauges[i].set, !leader || !pending);
    for (int i = 0; leader && pending && i < queued_s.n; i++) {
        metrics_set(&queued_s.m[i], pending[i].tool ? pending[i].queued : 0);
        metrics_set(&age_s.m[i], pending[i].tool ? (int64_t)pending[i].oldest_queued_s : 0);
        metrics_set(&running_s.m[i], pending[i].tool ? pending[i].running : 0);
        metrics_set(&input_s.m[i], pending[i].tool ? pending[i].input_required : 0);
    }
    for (int i = 0; pending && i < queued_s.n; i++)
        pending[i] = (struct tool_stats){0};
}
