/*
 * cancelhint.h - a cancel event is a hint: the task's row decides.
 *
 * Anyone who reaches Redis can publish "cancel <id>", so a worker never stops
 * a tool because of an event alone.  It reads the task and stops the run only
 * when the row says the run is no longer this worker's: cancelled, finished,
 * claimed again (another claim token), or gone.  A forged event costs one
 * primary-key read and is counted (taskwire_cancel_events_total{verdict}).
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef TASKWIRE_CANCELHINT_H
#define TASKWIRE_CANCELHINT_H

#include "store.h"
#include "taskid.h"

/* One run of a task: which task, under which claim. */
struct run_ref {
    char id[TASKID_LEN + 1];    /* the task */
    char claim[TASKID_LEN + 1]; /* the claim token of this run (store_task_claim) */
};

/* What the row says about a run a cancel event named. */
enum cancelhint_verdict {
    CANCELHINT_KEEP,    /* still this run's: the event was stale or forged */
    CANCELHINT_STOP,    /* no longer this run's: stop the tool */
    CANCELHINT_UNKNOWN, /* the row could not be read now (the next heartbeat decides) */
};

/* Read the task of 'run' on 'st' and judge it for worker 'worker_id'; counts the verdict. */
enum cancelhint_verdict cancelhint_check(struct store *st, const char *worker_id,
                                         const struct run_ref *run);
/* Register the verdict counters; call once before serving. */
void cancelhint_metrics_register(void);

#endif
