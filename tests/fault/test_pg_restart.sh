#!/usr/bin/env bash
# PostgreSQL restarted mid-run (pg_ctl stop -m fast, a few seconds down, pg_ctl start, as
# the stack runs it): while it is down the frontends answer 503 with a JSON-RPC error
# (-32603, Retry-After) and never a 200; afterwards every process reconnects by itself and
# every task created before and after finishes, and none lost its work: a result a worker
# had in hand while PostgreSQL was away is stored once it is back (the worker retries for up
# to a lease), so every task completes at attempt 1, started once and finished once.  The
# lease is longer than the outage for that (and so no lease runs out meanwhile).
# SPDX-License-Identifier: Apache-2.0
export TASKWIRE_LEASE_MS=${TASKWIRE_LEASE_MS:-8000}
. "$(dirname "$0")/lib.sh"
fault_up 2 2
TOK=$(token fault-c)
BEFORE=$TMP/before
AFTER=$TMP/after
: >"$BEFORE"
: >"$AFTER"
DOWN_S=${FAULT_PG_DOWN_S:-3}

# Before: tasks that are running (and some queued behind them) when PostgreSQL goes away.
for i in 1 2 3 4 5 6 7 8 9 10; do
    call_task "$PROXY" "$TOK" sleep '{"seconds":2.5,"steps":5}'
    [ -n "$TASK_ID" ] && echo "$TASK_ID" >>"$BEFORE"
done
check "10 tasks created before the restart" [ "$(wc -l <"$BEFORE")" = 10 ]
some_running() {
    [ "$(psql_q "SELECT count(*) FROM tasks WHERE id IN ($(sql_ids "$BEFORE")) AND status = 'running'")" -ge 4 ]
}
check "tasks are running" wait_for 10 some_running
ONE=$(head -n 1 "$BEFORE")

check "pg_ctl stop -m fast" pg_stop
T_DOWN=$(now_ms)
echo "# PostgreSQL stopped; probing the frontends for ${DOWN_S}s"
N503=0 NJSON503=0 NRETRY=0 N200=0 NOTHER=0
ANSWERS=""
probe() {
    rpc_with "$1" "$TOK" "$2" "$3" "$4" -D "$TMP/headers" -m 5
    local code
    code=$(jbody '.error.code // empty')
    case $STATUS in
    503)
        N503=$((N503 + 1))
        [ "$code" = -32603 ] && [ "$(jbody '.jsonrpc')" = 2.0 ] && NJSON503=$((NJSON503 + 1))
        grep -qi '^Retry-After: *1' "$TMP/headers" && NRETRY=$((NRETRY + 1))
        ;;
    200)
        N200=$((N200 + 1))
        echo "# 200 while PostgreSQL is down: $2 -> $BODY"
        ;;
    *) NOTHER=$((NOTHER + 1)) ;;
    esac
    ANSWERS+="$STATUS "
}
while [ $(($(now_ms) - T_DOWN)) -lt $((DOWN_S * 1000)) ]; do
    for u in "$PROXY" "$(frontend_url 1)" "$(frontend_url 2)"; do
        probe "$u" tools/call '{"name":"sleep","arguments":{"seconds":0.1,"steps":1}}' sleep
        probe "$u" tasks/get "{\"taskId\":\"$ONE\"}" "$ONE"
    done
    sleep 0.1
done
echo "# answers while down: 503 x$N503 (JSON-RPC -32603: $NJSON503, Retry-After: $NRETRY), 200 x$N200, other x$NOTHER"
check "frontends answered 503 while PostgreSQL was down" [ "$N503" -gt 0 ]
check "every 503 carries a JSON-RPC -32603 error" [ "$NJSON503" = "$N503" ]
check "every 503 carries Retry-After: 1" [ "$NRETRY" = "$N503" ]
check "no 200 while PostgreSQL was down (nothing acknowledged without a commit)" [ "$N200" = 0 ]
check "no other status while PostgreSQL was down" [ "$NOTHER" = 0 ]
for n in frontend-1 frontend-2 worker-1 worker-2; do
    check "$n survived the outage" name_alive "$n"
done

check "pg_ctl start" pg_start
T_UP=$(now_ms)
echo "# PostgreSQL back after $((T_UP - T_DOWN)) ms"
check "the outage ($((T_UP - T_DOWN)) ms) was shorter than the lease (${TASKWIRE_LEASE_MS} ms)" \
    [ $((T_UP - T_DOWN)) -lt "$TASKWIRE_LEASE_MS" ]
for i in 1 2; do
    check "frontend-$i ready again (20 s)" wait_for 20 http_ok "http://127.0.0.1:$((BASE + i))/readyz"
    check "worker-$i ready again (20 s)" wait_for 20 http_ok "$(worker_admin "$i")/readyz"
done
# After: the very first requests must succeed (stale connections are re-opened at once).
NFIRST=0
for i in 1 2 3 4 5 6; do
    case $i in 1 | 4) u=$(frontend_url 1) ;; 2 | 5) u=$(frontend_url 2) ;; *) u=$PROXY ;; esac
    call_task "$u" "$TOK" sleep '{"seconds":0.5,"steps":2}'
    if [ -n "$TASK_ID" ]; then
        echo "$TASK_ID" >>"$AFTER"
    else
        NFIRST=$((NFIRST + 1))
        echo "# create after the restart via $u answered $STATUS: $BODY"
    fi
done
check "every create after the restart succeeds at the first try" [ "$NFIRST" = 0 ]
check "every task created before the restart finishes (30 s)" wait_for 30 all_terminal "$BEFORE"
check "every task created after the restart finishes (30 s)" wait_for 30 all_terminal "$AFTER"
echo "# before: $(psql_q "SELECT status || ' attempt ' || attempt, count(*) FROM tasks WHERE id IN ($(sql_ids "$BEFORE")) GROUP BY 1 ORDER BY 1" | tr '\n' ' ')"
ALL_IDS="$(sql_ids "$BEFORE"),$(sql_ids "$AFTER")"
NALL=$(cat "$BEFORE" "$AFTER" | wc -l)
check "all of them completed" \
    [ "$(psql_q "SELECT count(*) FROM tasks WHERE id IN ($ALL_IDS) AND status = 'completed'")" = "$NALL" ]
check "all of them at attempt 1 (no result thrown away, nothing run again)" \
    [ "$(psql_q "SELECT count(*) FROM tasks WHERE id IN ($ALL_IDS) AND attempt = 1")" = "$NALL" ]
# started_finished FILE: "<starts>/<finishes>" of every task in FILE, counted apart.
started_finished() {
    local id
    while read -r id; do echo "$(log_count 'task started' "$id")/$(log_count 'task finished' "$id")"; done <"$1" |
        sort | uniq -c | awk '{ printf "%s x%s ", $2, $1 }'
}
check "every task started once and finished once" \
    [ "$(cat "$BEFORE" "$AFTER" >"$TMP/all"; started_finished "$TMP/all")" = "1/1 x$NALL " ]
check "no result was given up or discarded (worker logs)" [ "$(
    cat "$LOGS"/worker-*.log | grep -cE '"msg":"(cannot store result|result discarded)'
)" = 0 ]
check "no lease ran out (no sweeper requeued or failed a task)" [ "$(
    cat "$LOGS"/worker-*.log | grep -F '"msg":"sweeper"' | grep -cvF '"requeued":"0","failed":"0"'
)" = 0 ]
check "reads through the proxy work again" status_is "$PROXY" "$TOK" "$ONE" completed
check "every stack process runs (stack status)" "$STACK" status
fault_finish
