#!/usr/bin/env bash
# SIGTERM on a worker with running tasks (TASKWIRE_GRACE_MS=3000): it stops receiving, a
# short task finishes within the grace period, a long one is released back to `queued`
# without counting an attempt and completes on another worker (attempt 1 there too).
# SPDX-License-Identifier: Apache-2.0
export TASKWIRE_GRACE_MS=3000
. "$(dirname "$0")/lib.sh"
fault_up 1 1
TOK=$(token fault-g)
SLACK_MS=1500
# Long enough that the long task cannot end within the grace period even when the short
# task's progress is seen late (heartbeat coalescing on a loaded machine).
LONG_S=12

call_task "$PROXY" "$TOK" sleep "{\"seconds\":$LONG_S,\"steps\":$LONG_S}"
L=$TASK_ID
call_task "$PROXY" "$TOK" sleep '{"seconds":6,"steps":12}'
S=$TASK_ID
check "both tasks created" [ "${L:+long} ${S:+short}" = "long short" ]
both_running() { db_status_is "$L" running && db_status_is "$S" running; }
check "both run on worker-1" wait_for 10 both_running
check "... on worker-1" [ "$(row "$L" | cut -d' ' -f3)/$(row "$S" | cut -d' ' -f3)" = worker-1/worker-1 ]

# A second worker to take over (the environment of worker-1, another id and admin port).
W2=$(respawn worker-2 worker-1 TASKWIRE_WORKER_ID=worker-2 "TASKWIRE_ADMIN_LISTEN=127.0.0.1:$((BASE + 32))")
check "worker-2 started (pid ${W2:-none})" [ -n "$W2" ]
check "worker-2 ready" wait_for 20 http_ok "$(worker_admin 2)/readyz"

# SIGTERM when the short task has at most 2 s left (step 8 of 12 done): it finishes within
# the 3 s grace; the long one cannot.  Progress is written coalesced, so it can be seen up
# to 2 s late and the short task still be running.
short_late() { [ "$(psql_q "SELECT progress >= 8 FROM tasks WHERE id = '$S'")" = t ]; }
check "short task reached step 8/12" wait_for 15 short_late
W1=$(stack_pid worker-1)
kill -TERM "$W1"
T_TERM=$(now_ms)
AT_TERM="short: $(row "$S"), long: $(row "$L")"
echo "# SIGTERM to worker-1 (pid $W1); rows then: $AT_TERM"
check "both tasks were still running at SIGTERM" [ "$AT_TERM" = "short: running 1 worker-1 true, long: running 1 worker-1 true" ]
check "worker-1 exits within grace + ${SLACK_MS} ms" wait_ms $((TASKWIRE_GRACE_MS + SLACK_MS)) pid_dead "$W1"
echo "# worker-1 exited $WAITED_MS ms after SIGTERM"
check "worker-1 logged its shutdown" grep -qF '"msg":"stopping: no longer receiving; waiting for running tasks"' "$LOGS/worker-1.log"
check "short task finished on worker-1 within the grace period: completed, attempt 1" \
    [ "$(row "$S")" = "completed 1 worker-1 false" ]
check "long task released by worker-1" \
    grep -F '"msg":"task released for another worker (shutdown)"' "$LOGS/worker-1.log" -q
check "... that line names the long task" [ "$(log_count 'task released for another worker (shutdown)' "$L")" = 1 ]
LIMIT=$((TASKWIRE_GRACE_MS + TASKWIRE_IDLE_POLL_MS + LONG_S * 1000 + SLACK_MS))
check "long task completes on worker-2 within $LIMIT ms (no lease expiry needed)" \
    wait_ms $((LIMIT - ($(now_ms) - T_TERM))) db_status_is "$L" completed
echo "# long task completed $(($(now_ms) - T_TERM)) ms after SIGTERM; row: $(row "$L")"
check "long task: completed, attempt 1 (the release gave the attempt back), on worker-2" \
    [ "$(row "$L")" = "completed 1 worker-2 false" ]
check "long task started twice, finished once" \
    [ "$(log_count 'task started' "$L")/$(log_count 'task finished' "$L")" = 2/1 ]
check "no lease expired (the release is not a crash)" \
    [ "$(metric "$(worker_admin 2)" 'taskwire_leases_expired_total{outcome="requeued"}')" = 0 ]
check "MCP reads completed" status_is "$PROXY" "$TOK" "$L" completed
fault_finish
