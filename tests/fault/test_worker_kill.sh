#!/usr/bin/env bash
# kill -9 of the worker running a task: the lease expires, a sweeper requeues the task (held
# back by the first retry backoff, 1 s +-25 %) and the other worker runs it to completion
# within lease + sweep + backoff + idle poll (+ the task's own duration), with attempt 2 and
# exactly one outcome stored.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
fault_up 2 2
TOK=$(token fault-a)
SLACK_MS=1000
BACKOFF_MS=1250 # the longest first-retry backoff (common/store.c BACKOFF: 1 s * 1.25)
TASK_S=2

call_task "$PROXY" "$TOK" sleep "{\"seconds\":$TASK_S,\"steps\":4}"
ID=$TASK_ID
check "task created" [ "$STATUS ${ID:+id}" = "200 id" ]
check "task runs on a worker" wait_for 10 db_status_is "$ID" running
VICTIM=$(psql_q "SELECT worker_id FROM tasks WHERE id = '$ID'")
case $VICTIM in worker-1) OTHER=worker-2 ;; *) OTHER=worker-1 ;; esac
VPID=$(stack_pid "$VICTIM")
echo "# task $ID runs on $VICTIM (pid $VPID); killing it with SIGKILL"
# Let it make some progress first, so a lease renewal has happened.
progressed() { [ "$(psql_q "SELECT progress >= 1 FROM tasks WHERE id = '$ID'")" = t ]; }
wait_ms 1500 progressed
kill -KILL "$VPID"
T_KILL=$(now_ms)
check "the killed worker is gone" wait_ms 2000 pid_dead "$VPID"

# Running again (or already done) on the other worker.
on_other() {
    local r
    r=$(row "$ID")
    case $r in "running 2 $OTHER "* | "completed 2 $OTHER "*) return 0 ;; esac
    return 1
}
LIMIT=$((TASKWIRE_LEASE_MS + TASKWIRE_SWEEP_MS + BACKOFF_MS + TASKWIRE_IDLE_POLL_MS + SLACK_MS))
check "task runs again on $OTHER within lease+sweep+backoff+idle-poll+${SLACK_MS} ms ($LIMIT ms)" \
    wait_ms $((LIMIT - ($(now_ms) - T_KILL))) on_other
echo "# requeued and claimed again $(($(now_ms) - T_KILL)) ms after the kill; row: $(row "$ID")"
DONE_LIMIT=$((LIMIT + TASK_S * 1000 + SLACK_MS))
check "task completes within $DONE_LIMIT ms of the kill" \
    wait_ms $((DONE_LIMIT - ($(now_ms) - T_KILL))) db_status_is "$ID" completed
echo "# completed $(($(now_ms) - T_KILL)) ms after the kill"
check "row: completed, attempt 2, worker $OTHER, result stored" \
    [ "$(row "$ID")" = "completed 2 $OTHER false" ]
check "MCP tasks/get reads completed" status_is "$PROXY" "$TOK" "$ID" completed
check "exactly one 'task finished' log line" [ "$(log_count 'task finished' "$ID")" = 1 ]
check "two 'task started' log lines (one per attempt)" [ "$(log_count 'task started' "$ID")" = 2 ]
check "the sweeper of $OTHER counted the expired lease" \
    [ "$(metric "$(worker_admin "${OTHER#worker-}")" 'taskwire_leases_expired_total{outcome="requeued"}')" -ge 1 ]
check "$OTHER is still ready" http_ok "$(worker_admin "${OTHER#worker-}")/readyz"
fault_finish
