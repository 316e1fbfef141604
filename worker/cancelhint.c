/*
 * cancelhint.c - judging a cancel event by the task's row (cancelhint.h).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "cancelhint.h"

#include <string.h>

#include "log.h"
#include "metrics.h"

METRIC_DEFINE(m_cancel_stop, METRIC_COUNTER, "taskwire_cancel_events_total",
              "verdict=\"stopped\"",
              "Cancel events, by what the re-read of the task found (events are only hints)");
METRIC_DEFINE(m_cancel_keep, METRIC_COUNTER, "taskwire_cancel_events_total", "verdict=\"kept\"",
              "Cancel events, by what the re-read of the task found (events are only hints)");

/* Register the verdict counters. */
void cancelhint_metrics_register(void)
{
    metrics_register(&m_cancel_stop);
    metrics_register(&m_cancel_keep);
}

/*
 * The run is still ours only when the row is running under its claim token on
 * this worker; anything else (cancelled, finished, parked, claimed again,
 * deleted) stops it.  A failed read decides nothing.
 */
enum cancelhint_verdict cancelhint_check(struct store *st, const char *worker_id,
                                         const struct run_ref *run)
{
    struct task_row row;
    struct err e = {0};
    int rc = store_task_get(st, run->id, NULL, &row, &e);
    if (rc < 0 && rc != -STORE_ENOTFOUND) {
        LOG_DEBUG("cancel event not checked now", "task_id", run->id, "error", e.msg);
        return CANCELHINT_UNKNOWN;
    }
    bool ours = rc == 0 && row.status == TASK_RUNNING && strcmp(row.claim, run->claim) == 0 &&
                row.worker_id && strcmp(row.worker_id, worker_id) == 0;
    if (rc == 0)
        task_row_fini(&row);
    metrics_add(ours ? &m_cancel_keep : &m_cancel_stop, 1);
    if (ours)
        LOG_INFO("cancel event ignored: the task still runs here", "task_id", run->id);
    return ours ? CANCELHINT_KEEP : CANCELHINT_STOP;
}
