/*
 * sweeper.c - expired leases, expired rows and the queue gauges, in one pass.
 *
 * The statements live in common/store.c; this module runs them, tells
 * waiters which tasks moved, and turns the counts into metrics and a log
 * line.  Invariant: a task whose lease expired is requeued (or failed at its
 * last attempt) by exactly one sweeper, never by two.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "sweeper.h"

#include <stdio.h>

#include "log.h"
#include "metrics.h"
#include "toolmetrics.h"

#define SWEEP_BATCH 100 /* rows a pass moves or deletes at most */

METRIC_DEFINE(m_queue_depth, METRIC_GAUGE, "taskwire_queue_depth", NULL,
              "Tasks queued for a worker, cluster-wide (as of this worker's last sweep)");
METRIC_DEFINE(m_queue_age, METRIC_GAUGE, "taskwire_queue_oldest_age_seconds", NULL,
              "Age of the oldest queued task, cluster-wide");
METRIC_DEFINE(m_running, METRIC_GAUGE, "taskwire_tasks_running", NULL,
              "Tasks held by a worker, cluster-wide");
METRIC_DEFINE(m_requeued, METRIC_COUNTER, "taskwire_leases_expired_total", "outcome=\"requeued\"",
              "Expired leases found by this worker's sweeper");
METRIC_DEFINE(m_lease_failed, METRIC_COUNTER, "taskwire_leases_expired_total", "outcome=\"failed\"",
              "Expired leases found by this worker's sweeper");

/* Register the sweeper's metrics. */
void sweeper_metrics_register(void)
{
    metrics_register(&m_queue_depth);
    metrics_register(&m_queue_age);
    metrics_register(&m_running);
    metrics_register(&m_requeued);
    metrics_register(&m_lease_failed);
}

static void publish_changed(void *arg, const char *task_id)
{
    notify_publish(arg, NOTIFY_CHANGED, task_id);
}

/*
 * One pass: requeue or fail expired leases, delete expired rows, read the
 * queue's size and age.  A store failure skips the pass (logged at debug:
 * PostgreSQL outages are reported elsewhere).
 */
void sweeper_pass(struct store *st, struct notify_pub *pub, int64_t lease_ms)
{
    struct sweep_counts c;
    struct err e = {0};
    if (store_sweep(st, SWEEP_BATCH, lease_ms, &c, publish_changed, pub, &e) < 0) {
        LOG_DEBUG("sweep skipped", "error", e.msg);
        return;
    }
    metrics_set(&m_queue_depth, c.queued);
    metrics_set(&m_queue_age, (int64_t)c.oldest_queued_s);
    metrics_set(&m_running, c.running);
    metrics_add(&m_requeued, c.requeued);
    metrics_add(&m_lease_failed, c.failed);
    bool leader = false;
    int rc = store_tool_stats(st, &leader, toolmetrics_stats_tool, NULL, &e);
    toolmetrics_stats_end(rc == 0 && leader);
    if (c.requeued || c.failed || c.expired) {
        char a[16], b[16], d[16];
        snprintf(a, sizeof(a), "%d", c.requeued);
        snprintf(b, sizeof(b), "%d", c.failed);
        snprintf(d, sizeof(d), "%d", c.expired);
        LOG_INFO("sweeper", "requeued", a, "failed", b, "expired", d);
    }
}
