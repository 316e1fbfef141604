#!/usr/bin/env bash
# A worker frozen (SIGSTOP) past its lease while it runs two tasks, then resumed (SIGCONT)
# after both were requeued and completed by another worker: its late writes change nothing.
# Task A (one 4 s step) has its result in hand when the worker wakes, so the worker offers
# it (a late finish, refused: "result discarded"); task B (8 steps of 1 s) reports progress
# and renews its lease (late heartbeat and progress writes, refused: the tool is stopped).
# Both rows keep the other worker's outcome, attempt, result, progress and updated_at, and
# each task has exactly one "task finished" line.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
fault_up 1 1
TOK=$(token fault-i)
SLACK_MS=1000
BACKOFF_MS=1250 # the longest first-retry backoff (common/store.c BACKOFF: 1 s * 1.25)
STOPPED=()
fault_pre_down() {
    local p
    for p in "${STOPPED[@]}"; do kill -CONT "$p" 2>/dev/null; done
}
# pid_stopped PID: the process is stopped by a signal (state T).
pid_stopped() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }
    [ "${s%% *}" = T ]
}
# snap ID: everything an outcome consists of, as one line.
snap() {
    psql_q "SELECT concat_ws(' | ', status, attempt, worker_id, result::text, error::text,
            progress, progress_total, status_message, updated_at, lease_until,
            input_requests::text, input_responses::text) FROM tasks WHERE id = '$1'"
}

call_task "$PROXY" "$TOK" sleep '{"seconds":4,"steps":1}'
A=$TASK_ID
call_task "$PROXY" "$TOK" sleep '{"seconds":8,"steps":8}'
B=$TASK_ID
check "tasks A and B created" [ "${A:+a}${B:+b}" = ab ]
both_on_1() { [ "$(row "$A" | cut -d' ' -f1-3)/$(row "$B" | cut -d' ' -f1-3)" = "running 1 worker-1/running 1 worker-1" ]; }
check "both run on worker-1, attempt 1 (10 s)" wait_for 10 both_on_1

# Freeze worker-1; a second worker (its environment, another id and admin port) takes over.
snapshot worker-1
W1=$(stack_pid worker-1)
kill -STOP "$W1" && STOPPED+=("$W1")
T_STOP=$(now_ms)
check "worker-1 (pid $W1) is frozen" wait_ms 2000 pid_stopped "$W1"
W2=$(respawn worker-2 worker-1 TASKWIRE_WORKER_ID=worker-2 "TASKWIRE_ADMIN_LISTEN=127.0.0.1:$((BASE + 32))")
check "worker-2 started (pid ${W2:-none})" [ -n "$W2" ]
check "worker-2 ready (20 s)" wait_for 20 http_ok "$(worker_admin 2)/readyz"

# on_2 ID STATUS: ID is STATUS at attempt 2 on worker-2.
on_2() { [ "$(row "$1" | cut -d' ' -f1-3)" = "$2 2 worker-2" ]; }
again() { on_2 "$A" running || on_2 "$A" completed; }
LIMIT=$((TASKWIRE_LEASE_MS + TASKWIRE_SWEEP_MS + BACKOFF_MS + TASKWIRE_IDLE_POLL_MS + SLACK_MS + 2000))
check "A runs again on worker-2 within lease + sweep + backoff + idle poll + slack + start ($LIMIT ms)" \
    wait_ms $((LIMIT - ($(now_ms) - T_STOP))) again
echo "# A claimed again $(($(now_ms) - T_STOP)) ms after the freeze; B: $(row "$B")"
check "A completes on worker-2 (10 s)" wait_for 10 on_2 "$A" completed
check "B completes on worker-2 (15 s)" wait_for 15 on_2 "$B" completed
check "worker-1 was frozen all along" pid_stopped "$W1"
check "worker-1 ran nothing meanwhile: A and B started once on it" \
    [ "$(grep -F '"msg":"task started"' "$LOGS/worker-1.log" | grep -cE "\"task_id\":\"($A|$B)\"")" = 2 ]
SNAP_A=$(snap "$A")
SNAP_B=$(snap "$B")
echo "# A before the thaw: $SNAP_A"
echo "# B before the thaw: $SNAP_B"

# Thaw worker-1: it finds its leases gone.
kill -CONT "$W1"
STOPPED=()
T_CONT=$(now_ms)
late_finish() { [ "$(log_count 'result discarded: task cancelled or lease lost' "$A")" = 1 ]; }
late_beat() { [ "$(log_count 'tool stopped: task cancelled or lease lost' "$B")" = 1 ]; }
check "A: worker-1 offered its late result and it was refused (10 s)" wait_for 10 late_finish
BEAT_MS=$((TASKWIRE_LEASE_MS / 3 + 2 * SLACK_MS))
check "B: worker-1's late heartbeat found the lease gone and stopped the tool ($BEAT_MS ms)" \
    wait_ms "$BEAT_MS" late_beat
echo "# late writes refused $(($(now_ms) - T_CONT)) ms after the thaw"
check "A's row is unchanged by the late writes" [ "$(snap "$A")" = "$SNAP_A" ]
check "B's row is unchanged by the late writes" [ "$(snap "$B")" = "$SNAP_B" ]
check "A: completed at attempt 2 on worker-2 with worker-2's result" \
    [ "$(row "$A")/$(psql_q "SELECT result->'content'->0->>'text' FROM tasks WHERE id = '$A'")" = \
        "completed 2 worker-2 false/Slept 4 s in 1 steps." ]
check "B: completed at attempt 2 on worker-2, progress 8/8" \
    [ "$(row "$B")/$(psql_q "SELECT progress || '/' || progress_total FROM tasks WHERE id = '$B'")" = \
        "completed 2 worker-2 false/8/8" ]
for t in A B; do
    id=${!t}
    check "$t: exactly one 'task finished' line (by worker-2)" \
        [ "$(log_count 'task finished' "$id")/$(grep -F '"msg":"task finished"' "$LOGS/worker-2.log" | grep -cF "\"task_id\":\"$id\"")" = 1/1 ]
    check "$t: two 'task started' lines (one per attempt)" [ "$(log_count 'task started' "$id")" = 2 ]
done
check "the sweeper of worker-2 counted the expired leases" \
    [ "$(metric "$(worker_admin 2)" 'taskwire_leases_expired_total{outcome="requeued"}')" -ge 2 ]
check "worker-1 is alive after the thaw" pid_alive "$W1"
check "worker-1 is ready again (10 s)" wait_for 10 http_ok "$(worker_admin 1)/readyz"
MCP=$(task_status "$PROXY" "$TOK" "$A")/$(task_status "$PROXY" "$TOK" "$B")
check "MCP reads both completed" [ "$MCP" = completed/completed ]
fault_finish
