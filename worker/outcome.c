/*
 * outcome.c - what a slot writes when a run ends (see outcome.h).
 *
 * Under load, the outcome's commit also claims the slot's next task (an
 * envelope the receive loop held while every slot was busy): one round trip
 * and one commit per task fewer, and the slot never goes idle in between.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include "outcome.h"

#include <stdlib.h>

#include "clock.h"
#include "log.h"
#include "mcpdefs.h"
#include "toolmetrics.h"
#include "tools.h"

#define RETRY_MS 500 /* between attempts to store an outcome while PostgreSQL is unreachable */

/* Outcome 'o' with the claim of pushed task 'id' under 'cap' (refused: the fairest
 * one); -STORE_EUNAVAILABLE when neither was written. */
static int store_with_claim(const struct outcome_slot *os, const struct task_outcome *o,
                            const char *id, int cap, struct task_row *next, bool *claimed,
                            struct err *e)
{
    int rc = store_task_finish_claim(os->store, o, id, os->lease_ms, cap, next, claimed, e);
    if (*claimed)
        toolmetrics_claim_joined();
    else if (rc == 0 || rc == -STORE_ELOST) {
        *claimed = fairclaim_fall_back(os->fair, os->store, os->worker_id, os->lease_ms, cap,
                                       next) == 0;
        if (!*claimed)
            toolmetrics_claim_missed();
    }
    return rc;
}

/* Store outcome 'o' of 'row', retried while PostgreSQL is unreachable, up to one lease;
 * with a held envelope, claim its task in the same commit: true then, *next claimed. */
static bool store_outcome(const struct outcome_slot *os, const struct task_row *row,
                          const struct task_outcome *o, struct task_row *next)
{
    struct err e = {0};
    int64_t give_up = clock_now_ms() + os->lease_ms;
    bool claimed = false;
    char id[TASKID_LEN + 1];
    int cap, rc = -STORE_EUNAVAILABLE;
    if (os->take_next(os->take_next_arg, id, &cap))
        rc = store_with_claim(os, o, id, cap, next, &claimed, &e);
    /* Not written (or not tried): the outcome alone; a held task stays queued for later. */
    while (rc == -STORE_EUNAVAILABLE &&
           (rc = store_task_finish(os->store, o->id, o->worker, o->claim, o->status, o->json,
                                   o->status_message, o->progress, o->total, o->log, &e)) ==
               -STORE_EUNAVAILABLE &&
           clock_now_ms() < give_up)
        clock_sleep_ms(RETRY_MS);
    const char *status = taskstate_name(o->status);
    if (rc == 0) {
        notify_publish(os->pub, NOTIFY_CHANGED, row->id);
        toolmetrics_ran(row->tool, os->seconds,
                        o->status == TASK_COMPLETED ? TOOLMETRICS_COMPLETED : TOOLMETRICS_FAILED);
        registry_outcome(os->reg, row->id, row->tool, status,
                         o->status == TASK_FAILED ? o->json : NULL);
        LOG_INFO("task finished", "task_id", row->id, "status", status);
    } else if (rc == -STORE_ELOST) {
        LOG_INFO("result discarded: task cancelled or lease lost", "task_id", row->id);
    } else {
        LOG_ERROR("cannot store result; the lease will expire and the task be retried", "task_id",
                  row->id, "error", e.msg);
    }
    return claimed;
}

/* Queue 'row' again after a backoff, or fail it at its last attempt, for 'reason'. */
static void retry(const struct outcome_slot *os, const struct task_row *row, const char *reason)
{
    bool failed = false;
    struct err e = {0};
    if (store_task_retry(os->store, row->id, os->worker_id, row->claim, reason, &failed, &e) != 0)
        return;
    notify_publish(os->pub, NOTIFY_CHANGED, row->id);
    toolmetrics_ran(row->tool, os->seconds, failed ? TOOLMETRICS_FAILED : TOOLMETRICS_RETRIED);
    if (failed)
        registry_outcome(os->reg, row->id, row->tool, "failed", reason);
    LOG_INFO(failed ? "task failed: no attempts left" : "task will be retried", "task_id", row->id,
             "reason", reason);
}

void outcome_release(const struct outcome_slot *os, const struct task_row *row)
{
    if (store_task_release(os->store, row->id, os->worker_id, row->claim, NULL) == 0)
        LOG_INFO("task released for another worker (shutdown)", "task_id", row->id);
}

/* The outcome in the run's result or error (neither: an internal error), stored with
 * the run's last progress and unwritten logs; true with *next claimed. */
static bool finish(const struct outcome_slot *os, const struct task_row *row, json_t *result,
                   json_t *error, struct task_row *next)
{
    json_t *made = NULL;
    if (!result && !error)
        error = made = tool_error(MCP_EINTERNAL, "tool returned neither a result nor an error");
    char *text = json_dumps(result ? result : error, JSON_COMPACT);
    bool more = false;
    if (text) {
        enum task_status status = result ? TASK_COMPLETED : TASK_FAILED;
        struct task_outcome o = {row->id, os->worker_id, row->claim, status, text,
                                 taskstate_name(status), 0, 0, NULL};
        toolctx_state_last_progress(os->tool, &o.progress, &o.total);
        char *logs = toolctx_state_take_logs(os->tool);
        o.log = logs;
        more = store_outcome(os, row, &o, next);
        free(logs);
    }
    free(text);
    json_decref(made);
    return more;
}

bool outcome_settle(const struct outcome_slot *os, const struct task_row *row,
                    const struct toolctx_outcome *out, bool shutdown, json_t *result,
                    json_t *error, struct task_row *next)
{
    bool more = false;
    if (out->retry[0] && !out->stopped) {
        retry(os, row, out->retry);
    } else if (out->parked) {
        LOG_INFO("task waits for input; slot released", "task_id", row->id);
    } else if (shutdown && !result) {
        /* Shutdown stopped the tool (its error, if any, is an artefact of that). */
        outcome_release(os, row);
    } else if (out->stopped && !shutdown && !result) {
        toolmetrics_ran(row->tool, os->seconds, TOOLMETRICS_STOPPED);
        LOG_INFO("tool stopped: task cancelled or lease lost", "task_id", row->id);
    } else {
        /* A result (even one that raced a cancel or the end of the grace period) is
         * offered: the conditional write keeps it only if the task is still ours. */
        more = finish(os, row, result, error, next);
    }
    json_decref(result);
    json_decref(error);
    return more;
}
