#!/usr/bin/env bash
# Invariant 6 under load: a task requeued by the sweeper (its worker was killed -9) is
# claimed again within lease + sweep + retry backoff + idle poll (+ slack) while the surviving worker is kept
# busy receiving a steady stream of tiny tasks from the fabric; every one of those completes too.
# Idle workers claim queued tasks from PostgreSQL every TASKWIRE_IDLE_POLL_MS (README): that
# must not depend on the fabric being quiet (the frontends' redispatcher, every
# TASKWIRE_REDISPATCH_MS, is only a backstop and would be too slow for this limit).
# SPDX-License-Identifier: Apache-2.0
# A load from one principal, not a test of its limits (test_limits.sh): no create rate limit.
export TASKWIRE_RATE_CREATE_PER_S=0
. "$(dirname "$0")/lib.sh"
fault_up 1 2
TOK=$(token fault-h)
SLACK_MS=1000
BACKOFF_MS=1250 # the longest first-retry backoff (common/store.c BACKOFF: 1 s * 1.25)
LOOPS=${FAULT_LOAD_LOOPS:-3}

call_task "$PROXY" "$TOK" sleep '{"seconds":2,"steps":1}'
X=$TASK_ID
check "task X runs" wait_for 10 db_status_is "$X" running
VICTIM=$(psql_q "SELECT worker_id FROM tasks WHERE id = '$X'")
case $VICTIM in worker-1) OTHER=worker-2 ;; *) OTHER=worker-1 ;; esac

# The load: LOOPS concurrent curl loops posting the same small create (0.01 s sleep tasks).
STOP=$TMP/stop
jq -cn --argjson m "$(meta)" '{jsonrpc:"2.0",id:1,method:"tools/call",
    params:{name:"sleep",arguments:{seconds:0.01,steps:1},_meta:$m}}' >"$TMP/create.json"
load() {
    while [ ! -e "$STOP" ]; do
        curl -s -o /dev/null -m 5 -X POST "$PROXY" -H 'Content-Type: application/json' \
            -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2026-07-28' \
            -H 'Mcp-Method: tools/call' -H 'Mcp-Name: sleep' -H "Authorization: Bearer $TOK" \
            --data-binary @"$TMP/create.json"
    done
}
for ((i = 0; i < LOOPS; i++)); do
    load &
    BG_PIDS+=($!)
done
T_LOAD=$(now_ms)
VPID=$(stack_pid "$VICTIM")
kill -KILL "$VPID"
T_KILL=$(now_ms)
echo "# killed $VICTIM (pid $VPID), which ran X; $LOOPS load loops running"
T_QUEUED=
reclaimed() {
    local r
    r=$(row "$X")
    case $r in
    "running 2 $OTHER "* | "completed 2 $OTHER "*) return 0 ;;
    queued*) [ -n "$T_QUEUED" ] || T_QUEUED=$(($(now_ms) - T_KILL)) ;;
    esac
    return 1
}
LIMIT=$((TASKWIRE_LEASE_MS + TASKWIRE_SWEEP_MS + BACKOFF_MS + TASKWIRE_IDLE_POLL_MS + SLACK_MS))
check "X is claimed again by $OTHER within $LIMIT ms of the kill, under load" wait_ms "$LIMIT" reclaimed
echo "# X: $(row "$X") at $(($(now_ms) - T_KILL)) ms after the kill"
echo "# X requeued ${T_QUEUED:-?} ms, claimed again $(($(now_ms) - T_KILL)) ms after the kill;" \
    "not_before was $(psql_q "SELECT round(extract(epoch FROM not_before - created_at) * 1000) FROM tasks WHERE id = '$X'") ms after its creation; frontend redispatches:" \
    "$(metric "http://127.0.0.1:$((BASE + 11))" taskwire_redispatches_total)"
touch "$STOP"
T_STOP=$(now_ms)
for p in "${BG_PIDS[@]:1}"; do wait "$p" 2>/dev/null; done
# Was the load real, and did every task of it complete? (Its create->finish p99 is printed, not
# judged: on a shared 2-core CI machine it is a measure of the machine; tests/bench measures it.)
STATS=$(psql_q "SELECT count(*) || ' ' ||
    coalesce(round(percentile_cont(0.99) WITHIN GROUP (ORDER BY
        extract(epoch FROM updated_at - created_at))::numeric * 1000), 0)
    FROM tasks WHERE id <> '$X' AND status = 'completed'")
N=${STATS%% *}
P99=${STATS##* }
RATE=$((N * 1000 / (T_STOP - T_LOAD + 1)))
echo "# load: $N tasks in $((T_STOP - T_LOAD)) ms ($RATE/s), create->finish p99 $P99 ms"
check "the load kept the fabric busy (>= 20 tasks/s)" [ "$RATE" -ge 20 ]
load_done() { [ "$(psql_q "SELECT count(*) FROM tasks WHERE id <> '$X' AND status <> 'completed'")" = 0 ]; }
check "every load task completes on the surviving worker" wait_for 15 load_done
check "X completes" wait_for 15 db_status_is "$X" completed
fault_finish
