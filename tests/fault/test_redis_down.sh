#!/usr/bin/env bash
# Redis killed: tasks are still created, run and cancelled.  Without the Redis event the
# worker notices a cancel at its next heartbeat (every lease/3): the tool stops within
# lease/3 + slack of the acknowledged cancel and no result is stored.
# Then Redis comes back: subscribers reconnect and cancels are fast again, including the
# first one published by a frontend thread whose Redis connection predates the outage.
# One HTTP thread per frontend (TASKWIRE_THREADS=1), so which publisher serves a request
# is known: frontend 1 publishes before the outage only, frontend 2 during it.
# SPDX-License-Identifier: Apache-2.0
export TASKWIRE_THREADS=1
. "$(dirname "$0")/lib.sh"
fault_up 2 2
F1=$(frontend_url 1)
F2=$(frontend_url 2)
TOK=$(token fault-d)
SLACK_MS=1000
HB_MS=$((TASKWIRE_LEASE_MS / 3))
FAST_MS=200 # a cancel carried by Redis stops the tool in a few ms; a heartbeat takes longer

# cancel_and_time ID [URL]: cancel ID through URL (default frontend 2); sets CANCEL_HTTP_MS (answer time) and
# STOP_MS (from the acknowledgement to the worker's "tool stopped" line, or -1).
cancel_and_time() {
    local t0 t1
    t0=$(now_ms)
    rpc "${2:-$F2}" "$TOK" tasks/cancel "{\"taskId\":\"$1\"}" "$1"
    t1=$(now_ms)
    CANCEL_HTTP_MS=$((t1 - t0))
    CANCEL_STATUS=$STATUS
    stopped() { [ "$(log_count 'tool stopped: task cancelled or lease lost' "$1")" -ge 1 ]; }
    if wait_ms $((HB_MS + SLACK_MS + 2000)) stopped "$1"; then
        STOP_MS=$(($(now_ms) - t1))
    else
        STOP_MS=-1
    fi
}

# Control, with Redis up, through frontend 1: the event stops the tool within milliseconds.
call_task "$F1" "$TOK" sleep '{"seconds":30,"steps":1}'
C0=$TASK_ID
check "control task runs" wait_for 10 db_status_is "$C0" running
sleep 1.2 # positioning: just after a lease renewal (see below)
cancel_and_time "$C0" "$F1"
echo "# with Redis: cancel answered in $CANCEL_HTTP_MS ms, tool stopped $STOP_MS ms after the ack"
check "with Redis the tool stops within $FAST_MS ms" between "$STOP_MS" 0 "$FAST_MS"

# Kill Redis.
RPID=$(stack_pid redis)
kill -KILL "$RPID"
check "Redis (pid $RPID) is gone" wait_ms 2000 pid_dead "$RPID"
check "Redis port refuses connections" bash -c "! redis-cli -h 127.0.0.1 -p $((BASE + 41)) ping >/dev/null 2>&1"

# Create and run.
call_task "$F2" "$TOK" sleep '{"seconds":0.3,"steps":3}'
S=$TASK_ID
check "tools/call answers 200 with a taskId without Redis" [ "$STATUS ${S:+id}" = "200 id" ]
check "the task completes without Redis" wait_for 10 status_is "$F2" "$TOK" "$S" completed
check "its row: completed, attempt 1" [ "$(row "$S" | cut -d' ' -f1,2)" = "completed 1" ]

# Cancel: noticed by the heartbeat.  One step only, so no progress writes: only the lease
# renewals (every lease/3) can notice.  The cancel is placed at different points between two
# renewals, after the task has run for a while.
MAXSTOP=0
for round in 1 2 3; do
    call_task "$F2" "$TOK" sleep '{"seconds":30,"steps":1}'
    L=$TASK_ID
    check "round $round: long task runs" wait_for 10 db_status_is "$L" running
    # Positioning the fault (not synchronisation): 1.5 s, 1.83 s, 2.17 s into the run.
    sleep "$(awk -v r="$round" 'BEGIN { printf "%.2f", 1.5 + (r - 1) / 3 }')"
    cancel_and_time "$L"
    echo "# without Redis, round $round: cancel answered $CANCEL_HTTP_MS ms, tool stopped $STOP_MS ms after the ack"
    check "round $round: tasks/cancel answers 200" [ "$CANCEL_STATUS" = 200 ]
    check "round $round: ... within 1 s" between "$CANCEL_HTTP_MS" 0 1000
    check "round $round: task reads cancelled" status_is "$F2" "$TOK" "$L" cancelled
    check "round $round: the tool stops within lease/3 + ${SLACK_MS} ms ($((HB_MS + SLACK_MS)) ms)" \
        between "$STOP_MS" 0 $((HB_MS + SLACK_MS))
    [ "$STOP_MS" -gt "$MAXSTOP" ] && MAXSTOP=$STOP_MS
    # After the "tool stopped" line the attempt is over: what it left is final.
    check "round $round: the attempt is over ('tool stopped' logged)" \
        [ "$(log_count 'tool stopped: task cancelled or lease lost' "$L")" = 1 ]
    check "round $round: no result stored" [ "$(row "$L" | awk '{print $1, $4}')" = "cancelled true" ]
    check "round $round: no result offered ('task finished' or 'result discarded')" \
        [ "$(log_count 'task finished' "$L")/$(log_count 'result discarded: task cancelled or lease lost' "$L")" = 0/0 ]
done
echo "# slowest stop without Redis: $MAXSTOP ms (heartbeat every $HB_MS ms)"

# A synchronous call (echo is task-optional; no Tasks extension declared) waits on the
# frontend for Redis change events; without Redis it must still get its answer.
SYNC=$(jq -cn --argjson id 9001 '{jsonrpc:"2.0",id:$id,method:"tools/call",
    params:{name:"echo",arguments:{text:"still here"},_meta:{
      "io.modelcontextprotocol/protocolVersion":"2026-07-28",
      "io.modelcontextprotocol/clientCapabilities":{},
      "io.modelcontextprotocol/clientInfo":{"name":"fault-d","version":"1"}}}}')
T0=$(now_ms)
raw "$F2" "$TOK" tools/call echo "$SYNC" -m 20
echo "# synchronous echo without Redis: HTTP $STATUS in $(($(now_ms) - T0)) ms: $(head -c 200 <<<"$BODY")"
check "a synchronous call completes without Redis" \
    [ "$STATUS $(jbody '.result.content[0].text')" = "200 still here" ]
check "workers still ready" http_ok "$(worker_admin 1)/readyz"
check "workers still ready" http_ok "$(worker_admin 2)/readyz"
check "frontends still ready" http_ok "http://127.0.0.1:$((BASE + 1))/readyz"
check "no process but Redis is down" [ "$("$STACK" status | grep -c ' down$')" = 1 ]

# Redis back (same command line): subscribers reconnect by themselves and the fast path
# returns.  The first cancel goes through frontend 1, whose publisher connected before the
# outage and has not published since.
subs_before=$(cat "$LOGS"/worker-*.log | grep -cF '"msg":"subscribed to task events"')
check "Redis restarted (answers PING)" redis_start
resubscribed() { [ "$(cat "$LOGS"/worker-*.log | grep -cF '"msg":"subscribed to task events"')" -ge $((subs_before + 2)) ]; }
check "both workers subscribed again (10 s)" wait_for 10 resubscribed
SLOW=0
for round in 1 2 3 4 5 6 7 8; do
    case $round in 1 | 3 | 5 | 7) F=$F1 ;; *) F=$F2 ;; esac
    call_task "$F" "$TOK" sleep '{"seconds":30,"steps":1}'
    L=$TASK_ID
    wait_for 10 db_status_is "$L" running
    # Positioning (not synchronisation): just after the first lease renewal (lease/3 after
    # the claim), so that the next heartbeat is ~0.8 s away and only the Redis event can stop
    # the tool within FAST_MS.
    sleep 1.2
    t0=$(now_ms)
    rpc "$F" "$TOK" tasks/cancel "{\"taskId\":\"$L\"}" "$L"
    t1=$(now_ms)
    stopped() { [ "$(log_count 'tool stopped: task cancelled or lease lost' "$L")" -ge 1 ]; }
    wait_ms $((HB_MS + SLACK_MS)) stopped
    echo "# Redis back, cancel $round via ${F%/mcp}: answered $((t1 - t0)) ms, tool stopped $WAITED_MS ms after the ack"
    [ "$round" = 1 ] && FIRST_MS=$WAITED_MS
    [ "$WAITED_MS" -le "$FAST_MS" ] || SLOW=$((SLOW + 1))
done
check "Redis back: the first cancel (frontend 1, connection from before the outage) stops its tool within $FAST_MS ms (took $FIRST_MS ms)" \
    [ "$FIRST_MS" -le "$FAST_MS" ]
check "Redis back: every cancel stops its tool within $FAST_MS ms (slow: $SLOW of 8)" [ "$SLOW" = 0 ]
fault_finish
