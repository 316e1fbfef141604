#!/usr/bin/env bash
# Garbage and duplicate envelopes on the fabric: one execution, the worker stays alive.
# tests/fault/fabric_inject binds an extra PUSH endpoint; an extra worker (the environment of
# the stack's worker-1, connected to that endpoint only) takes its messages.  The stack's own
# workers are paused (SIGSTOP) while the task is queued, and the extra worker's idle poll is
# off (60 s), so the five copies of its envelope race each other on the extra worker's slots
# for the claim.  Checks: the task ran exactly once (attempt 1, one "task started" line
# across the worker logs), the other copies were counted as missed claims, every malformed
# message was counted in taskwire_fabric_envelopes_dropped_total, and the worker still runs
# (a second round, on a new task).
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
INJECT=${FAULT_INJECT:-$TASKWIRE_STACK_BUILD_DIR/tests/fault/fabric_inject}
if [ ! -x "$INJECT" ]; then
    echo "fabric_inject not built at $INJECT"
    exit 1
fi
fault_up 2 2
TOK=$(token fault-e)
DUPS=5
EP="tcp://127.0.0.1:$((BASE + 45))"
XADMIN="http://127.0.0.1:$((BASE + 39))"
STOPPED=()
fault_pre_down() {
    local p
    for p in "${STOPPED[@]}"; do kill -CONT "$p" 2>/dev/null; done
}

# The extra worker listens only to the injector, and its idle poll (which runs once at start,
# when nothing is queued) is off afterwards: the envelopes are its only way to the task.
snapshot worker-1
XPID=$(respawn worker-9 worker-1 "TASKWIRE_FABRIC_CONNECT=$EP" \
    "TASKWIRE_ADMIN_LISTEN=127.0.0.1:$((BASE + 39))" TASKWIRE_WORKER_ID=worker-9 \
    TASKWIRE_IDLE_POLL_MS=60000)
check "extra worker-9 started (pid ${XPID:-none})" [ -n "$XPID" ]
check "worker-9 ready" wait_for 20 http_ok "$XADMIN/readyz"
for w in worker-1 worker-2; do
    p=$(stack_pid "$w")
    kill -STOP "$p" && STOPPED+=("$p")
done
check "the stack's workers are paused" [ "${#STOPPED[@]}" = 2 ]

call_task "$PROXY" "$TOK" sleep '{"seconds":1,"steps":2}'
ID=$TASK_ID
check "task created" [ "$STATUS ${ID:+id}" = "200 id" ]
check "task is queued" db_status_is "$ID" queued
OWNER=$(psql_q "SELECT owner FROM tasks WHERE id = '$ID'")
ARGS=$(psql_q "SELECT args::text FROM tasks WHERE id = '$ID'")

FABRIC_INJECT_SECRET_KEY_FILE=$SD/fabric/frontend.secret \
    "$INJECT" "$EP" "$ID" "$OWNER" sleep "$ARGS" "$DUPS" >"$TMP/inject.out" 2>"$TMP/inject.err" &
IPID=$!
BG_PIDS+=("$IPID")
inject_done() { ! kill -0 "$IPID" 2>/dev/null; }
check "the injector finished (30 s)" wait_for 30 inject_done
wait "$IPID"
IRC=$?
cat "$TMP/inject.err"
OUT=$(cat "$TMP/inject.out")
echo "# injector (exit $IRC): $OUT"
check "the injector exited 0" [ "$IRC" = 0 ]
check "the injector sent everything (malformed=N ... valid=$DUPS)" \
    [ "$(sed -n "s/^malformed=[1-9][0-9]* .*valid=\([0-9]*\)$/\1/p" <<<"$OUT")" = "$DUPS" ]
NBAD=$(sed -n 's/^malformed=\([0-9]*\).*/\1/p' <<<"$OUT")
: "${NBAD:=999999}"

check "task completes (15 s)" wait_for 15 db_status_is "$ID" completed
fault_pre_down
STOPPED=()
dropped() { [ "$(metric "$XADMIN" taskwire_fabric_envelopes_dropped_total)" -ge "$NBAD" ]; }
check "worker-9 counted every malformed message as dropped (>= $NBAD)" wait_for 10 dropped
echo "# worker-9 metrics: dropped $(metric "$XADMIN" taskwire_fabric_envelopes_dropped_total)," \
    "claims missed $(metric "$XADMIN" taskwire_claims_missed_total)"
check "worker-9 logged every drop" [ "$(grep -cF '"msg":"dropped an envelope"' "$LOGS/worker-9.log")" -ge "$NBAD" ]
missed() { [ "$(metric "$XADMIN" taskwire_claims_missed_total)" -ge $((DUPS - 1)) ]; }
check "all duplicates but one lost the claim (claims missed = $((DUPS - 1)))" wait_for 10 missed
check "... exactly $((DUPS - 1))" [ "$(metric "$XADMIN" taskwire_claims_missed_total)" = $((DUPS - 1)) ]
check "row: completed, attempt 1, on worker-9, result stored" \
    [ "$(row "$ID")" = "completed 1 worker-9 false" ]
check "exactly one 'task started' line across the worker logs" [ "$(log_count 'task started' "$ID")" = 1 ]
check "exactly one 'task finished' line" [ "$(log_count 'task finished' "$ID")" = 1 ]
check "worker-9 is alive" pid_alive "$XPID"
check "worker-9 answers /healthz" http_ok "$XADMIN/healthz"
check "the resumed stack workers are ready" wait_for 10 http_ok "$(worker_admin 1)/readyz"
check "the resumed stack workers are ready" wait_for 10 http_ok "$(worker_admin 2)/readyz"

# Round 2: the worker that swallowed the garbage still runs tasks, and counts again.
for w in worker-1 worker-2; do
    p=$(stack_pid "$w")
    kill -STOP "$p" && STOPPED+=("$p")
done
call_task "$PROXY" "$TOK" sleep '{"seconds":0.2,"steps":1}'
ID2=$TASK_ID
FABRIC_INJECT_SECRET_KEY_FILE=$SD/fabric/frontend.secret "$INJECT" "$EP" "$ID2" "$OWNER" sleep '{"seconds":0.2,"steps":1}' 3 >"$TMP/inject2.out" 2>&1 &
IPID=$!
BG_PIDS+=("$IPID")
check "round 2: the injector finished (30 s)" wait_for 30 inject_done
wait "$IPID"
check "round 2: the injector sent everything" [ $? = 0 ]
missed_is() { [ "$(metric "$XADMIN" taskwire_claims_missed_total)" = "$1" ]; }
check "round 2: claims missed now $((DUPS - 1 + 2))" wait_for 10 missed_is $((DUPS + 1))
check "round 2: worker-9 runs the task once" wait_for 10 db_status_is "$ID2" completed
check "round 2: row: completed, attempt 1, on worker-9" [ "$(row "$ID2")" = "completed 1 worker-9 false" ]
dropped2() { [ "$(metric "$XADMIN" taskwire_fabric_envelopes_dropped_total)" -ge $((2 * NBAD)) ]; }
check "round 2: dropped count doubled (>= $((2 * NBAD)))" wait_for 10 dropped2
fault_pre_down
STOPPED=()
check "round 2: exactly one 'task started' line" [ "$(log_count 'task started' "$ID2")" = 1 ]
check "worker-9 is still alive" pid_alive "$XPID"
for w in worker-1 worker-2; do check "$w is still alive" name_alive "$w"; done
fault_finish
