#!/usr/bin/env bash
# Limits per principal, fair scheduling and connection deadlines (issue 9): the probes that
# took the service down, replayed against a real stack (2 frontends behind haproxy, 2
# workers x 4 slots, PostgreSQL, Redis).
#  - a listen flood and a synchronous-call flood from one token are capped (429 with
#    Retry-After) while another principal keeps getting answers within 100 ms (p99);
#  - the synchronous calls whose clients hung up are cancelled behind haproxy (abortonclose);
#  - slowloris connections (a byte a second) are reaped within 30 s, at the proxy and at a
#    frontend reached directly (its own header deadline);
#  - a principal over its create rate gets 429 with Retry-After and data.retryAfterMs while
#    another principal is unaffected; the cap on live tasks answers 429 too;
#  - with alice's 200 long tasks queued, bob's task starts within 2 s, pushed to the workers
#    or found by their own claims from PostgreSQL;
#  - Redis stopped: the in-process fallback still refuses, and counts and logs it;
#  - haproxy takes at most TASKWIRE_STACK_MAX_CONN_PER_SOURCE connections from one address.
# Every refusal is counted in taskwire_requests_refused_total (checked at the frontends).
# SPDX-License-Identifier: Apache-2.0
export TASKWIRE_MAX_SYNC_CALLS=4 TASKWIRE_MAX_LISTEN_STREAMS=4
export TASKWIRE_HEADER_TIMEOUT_MS=5000 # the frontends' own deadline (probed directly)
export TASKWIRE_STACK_MAX_CONN_PER_SOURCE=300 # haproxy's cap per client address (probed last)
. "$(dirname "$0")/lib.sh"
LIMITS=$TMP/limits.json
cat >"$LIMITS" <<'EOF'
{"principals": {
  "rate-a": {"rate-create-per-s": 2, "rate-create-burst": 4},
  "fair-a": {"rate-create-per-s": 0, "max-live-tasks": 1000},
  "live-a": {"max-live-tasks": 3},
  "mallory": {"rate-create-per-s": 0}}}
EOF
export TASKWIRE_LIMITS_FILE=$LIMITS
fault_up 2 2
FA1=$((BASE + 11))
FA2=$((BASE + 12))
BOB=$(token bob)

# refused_total: taskwire_requests_refused_total{reason=R} summed over both frontends.
refused_total() {
    local m="taskwire_requests_refused_total{reason=\"$1\"}" a b
    a=$(metric "http://127.0.0.1:$FA1" "$m")
    b=$(metric "http://127.0.0.1:$FA2" "$m")
    echo $((${a%.*} + ${b%.*}))
}

# body_of METHOD PARAMS_JSON [CAPS_JSON]: a 2026-07-28 request body.
body_of() {
    jq -cn --arg m "$1" --argjson p "$2" --argjson meta "$(meta "${3:-}")" \
        '{jsonrpc:"2.0",id:1,method:$m,params:($p + {_meta:$meta})}'
}

# flood N FILE TOKEN METHOD NAME BODY MAX_S: N requests at once (through the proxy), each
# given MAX_S seconds; their HTTP statuses (000: still open when curl gave up) go to FILE.
flood() {
    local n=$1 out=$2 tok=$3 method=$4 name=$5 body=$6 max=$7
    printf '%s' "$body" >"$out.req"
    seq "$n" | xargs -P "$n" -I{} curl -s -N -o /dev/null -w '%{http_code}\n' -m "$max" \
        -X POST "$PROXY" -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2026-07-28' \
        -H "Mcp-Method: $method" -H "Mcp-Name: $name" -H "Authorization: Bearer $tok" \
        --data-binary @"$out.req" >"$out" 2>/dev/null
}
count_of() { grep -cx "$2" "$1"; }

# latencies N: N tasks/get of bob's task through the proxy, one after the other; sets P99_MS
# (the 99th percentile), MAX_MS and BAD (answers that were not 200).
latencies() {
    local b i
    b=$(body_of tasks/get "{\"taskId\":\"$BOB_TASK\"}")
    printf '%s' "$b" >"$TMP/lat.req"
    for ((i = 0; i < $1; i++)); do
        curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -m 5 -X POST "$PROXY" \
            -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
            -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tasks/get' \
            -H "Mcp-Name: $BOB_TASK" -H "Authorization: Bearer $BOB" --data-binary @"$TMP/lat.req"
    done >"$TMP/lat"
    BAD=$(awk '$1 != 200' "$TMP/lat" | wc -l)
    P99_MS=$(awk '{ print int($2 * 1000 + 0.5) }' "$TMP/lat" | sort -n |
        awk '{ v[NR] = $1 } END { i = int(NR * 0.99 + 0.999); print v[i] }')
    MAX_MS=$(awk '{ print int($2 * 1000 + 0.5) }' "$TMP/lat" | sort -n | tail -1)
}

call_task "$PROXY" "$BOB" echo '{"text":"bob"}'
BOB_TASK=$TASK_ID
check "bob's control task is created" [ -n "$BOB_TASK" ]

# ---- slowloris, started first (it runs while the other probes do) ----
# slow_conn PORT OUT: connect, send a request line and then a header byte a second; write
# how long the connection lived (ms) to OUT when a write fails or EOF is seen.
slow_conn() {
    local port=$1 out=$2 t0 fd
    t0=$(now_ms)
    if ! exec {fd}<>"/dev/tcp/127.0.0.1/$port"; then
        echo "refused" >"$out"
        return
    fi
    { printf 'POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ' >&"$fd"; } 2>/dev/null
    while [ $(($(now_ms) - t0)) -lt 60000 ]; do
        { printf 'x' >&"$fd"; } 2>/dev/null || break
        # EOF (or a 408) from the server ends the connection for us.
        if read -r -t 1 -u "$fd" _ 2>/dev/null || [ $? -le 128 ]; then break; fi
    done
    echo $(($(now_ms) - t0)) >"$out"
    exec {fd}>&-
}
SLOW_N=10
for ((i = 1; i <= SLOW_N; i++)); do
    slow_conn "$BASE" "$TMP/slow-proxy-$i" &
    BG_PIDS+=($!)
    slow_conn $((BASE + 1)) "$TMP/slow-fe-$i" &
    BG_PIDS+=($!)
done
SLOW_T0=$(now_ms)

# ---- listen flood: one token, 60 streams ----
ALICE=$(token alice)
LISTEN=$(body_of subscriptions/listen '{"notifications":{"toolsListChanged":true}}' '{}')
flood 60 "$TMP/listen" "$ALICE" subscriptions/listen "" "$LISTEN" 25 &
LISTEN_PID=$!
BG_PIDS+=("$LISTEN_PID")
held_listens() {
    [ "$(($(metric "http://127.0.0.1:$FA1" 'taskwire_requests_refused_total{reason="max_listen_streams"}') + \
        $(metric "http://127.0.0.1:$FA2" 'taskwire_requests_refused_total{reason="max_listen_streams"}')))" -ge 56 ]
}
check "listen flood: 56 of 60 streams refused, 4 held (max-listen-streams 4; 15 s)" wait_ms 15000 held_listens
latencies 100
echo "# bob during alice's listen flood: p99 $P99_MS ms, max $MAX_MS ms, not 200: $BAD"
check "bob's 100 tasks/get during the listen flood all answer 200" [ "$BAD" = 0 ]
check "... with p99 within 100 ms ($P99_MS ms)" between "$P99_MS" 0 100

# ---- synchronous-call flood: one token (no rate limit), 60 slow_compute calls hung up after 8 s ----
MALLORY=$(token mallory)
SYNC=$(body_of tools/call '{"name":"slow_compute","arguments":{"seconds":3600,"label":"flood"}}' '{}')
flood 60 "$TMP/sync" "$MALLORY" tools/call slow_compute "$SYNC" 8 &
SYNC_PID=$!
BG_PIDS+=("$SYNC_PID")
sync_refused() { [ "$(refused_total max_sync_calls)" -ge 56 ]; }
check "sync flood: 56 of 60 calls refused at once (max-sync-calls 4; 10 s)" wait_ms 10000 sync_refused
latencies 100
echo "# bob during mallory's sync flood: p99 $P99_MS ms, max $MAX_MS ms, not 200: $BAD"
check "bob's 100 tasks/get during the sync flood all answer 200" [ "$BAD" = 0 ]
check "... with p99 within 100 ms ($P99_MS ms)" between "$P99_MS" 0 100
wait "$SYNC_PID"
check "sync flood: 56 answered 429, 4 were held until the client hung up" \
    [ "$(count_of "$TMP/sync" 429)/$(count_of "$TMP/sync" 000)" = 56/4 ]
check "sync flood: only the 4 admitted calls made tasks" \
    [ "$(psql_q "SELECT count(*) FROM tasks WHERE owner = 'mallory'")" = 4 ]
mallory_done() {
    [ "$(psql_q "SELECT count(*) FROM tasks WHERE owner = 'mallory' AND status = 'cancelled'")" = 4 ]
}
check "the hung-up synchronous calls are cancelled behind haproxy (10 s)" wait_ms 10000 mallory_done
echo "# cancelled ${WAITED_MS} ms after the clients hung up"
wait "$LISTEN_PID"
check "listen flood: 56 streams answered 429" [ "$(count_of "$TMP/listen" 429)" = 56 ]

# ---- slowloris: reaped within 30 s ----
slow_done() {
    local f
    for f in "$TMP"/slow-*-"$1"; do [ -s "$f" ] || return 1; done
}
all_slow_done() {
    local i
    for ((i = 1; i <= SLOW_N; i++)); do slow_done "$i" || return 1; done
}
wait_ms $((30000 - ($(now_ms) - SLOW_T0) + 5000)) all_slow_done
worst() { cat "$TMP"/slow-"$1"-* | sort -n | tail -1; }
echo "# slowloris lived at most $(worst proxy) ms at the proxy, $(worst fe) ms at a frontend"
check "slowloris at the proxy: every connection reaped within 30 s" \
    between "$(worst proxy)" 1000 30000
check "slowloris at a frontend: every connection reaped within 30 s" \
    between "$(worst fe)" 1000 30000
check "the frontend counted its reaps" \
    [ "$(metric "http://127.0.0.1:$((BASE + 11))" 'taskwire_connections_reaped_total{deadline="headers"}')" -ge "$SLOW_N" ]

# ---- rate: rate-a creates 2/s with a burst of 4 ----
RATE=$(token rate-a)
CREATE=$(body_of tools/call '{"name":"echo","arguments":{"text":"r"}}')
flood 12 "$TMP/rate" "$RATE" tools/call echo "$CREATE" 10
check "rate-a: 12 creates at once, at most 5 admitted, the rest 429" \
    all_of "[ $(count_of "$TMP/rate" 429) -ge 7 ]" "[ $(count_of "$TMP/rate" 200) -ge 3 ]"
raw "$PROXY" "$RATE" tools/call echo "$CREATE" -D "$TMP/rate.h"
RA=$(tr -d '\r' <"$TMP/rate.h" | awk -F': ' 'tolower($1) == "retry-after" { print $2 }')
RMS=$(jbody .error.data.retryAfterMs)
echo "# rate-a refused: HTTP $STATUS, Retry-After $RA, retryAfterMs $RMS"
check "rate-a's next create: 429, Retry-After 1, JSON-RPC error with data.retryAfterMs in (0, 1000]" \
    all_of "[ '$STATUS' = 429 ]" "[ '$RA' = 1 ]" "between '$RMS' 1 1000"
call_task "$PROXY" "$BOB" echo '{"text":"unaffected"}'
check "bob's create at the same moment is unaffected (200 with a task)" \
    [ "$STATUS ${TASK_ID:+id}" = "200 id" ]
check "rate refusals counted" [ "$(refused_total rate_create)" -ge 8 ]

# ---- the cap on live tasks: live-a may hold 3 ----
LIVE=$(token live-a)
for i in 1 2 3; do call_task "$PROXY" "$LIVE" sleep '{"seconds":60,"steps":1}'; done
check "live-a: 3 long tasks created" \
    [ "$(psql_q "SELECT count(*) FROM tasks WHERE owner = 'live-a'")" = 3 ]
call_task "$PROXY" "$LIVE" sleep '{"seconds":60,"steps":1}'
check "live-a's 4th live task: 429 max_live_tasks with retryAfterMs" \
    [ "$STATUS $(jbody .error.data.reason) $(jbody '.error.data.retryAfterMs > 0')" = "429 max_live_tasks true" ]

# ---- fairness: fair-a's 200 long tasks queued, bob's task starts within 2 s ----
FAIR=$(token fair-a)
LONG=$(body_of tools/call '{"name":"sleep","arguments":{"seconds":120,"steps":1}}')
flood 200 "$TMP/fair" "$FAIR" tools/call sleep "$LONG" 20
check "fair-a: 200 long tasks created" [ "$(count_of "$TMP/fair" 200)" = 200 ]
fair_queued() {
    [ "$(psql_q "SELECT count(*) FROM tasks WHERE owner = 'fair-a' AND status = 'queued'")" -ge 150 ]
}
check "... most of them queued" fair_queued
started() { [ "$(db_status "$1")" = running ] || [ "$(db_status "$1")" = completed ]; }
for round in 1 2 3; do
    call_task "$PROXY" "$BOB" sleep '{"seconds":0.2,"steps":1}'
    check "round $round: bob's task starts within 2 s (fair-a has $(psql_q "SELECT count(*) FROM tasks WHERE owner = 'fair-a' AND status = 'queued'") queued)" \
        wait_ms 2000 started "$TASK_ID"
    echo "# round $round: bob's task started after $WAITED_MS ms"
    wait_for 10 db_status_is "$TASK_ID" completed
done

# The same when no push announces bob's task: written straight into PostgreSQL (with the
# frontend's fair key), only a worker's own claim from the database can find it.
for round in 1 2; do
    ID=$(psql_q "INSERT INTO tasks (id, owner, tool, args, ttl_ms, poll_interval_ms, expires_at,
                 fair_key) SELECT gen_random_uuid(), 'bob', 'sleep', '{\"seconds\":0.2,\"steps\":1}',
                 600000, 1000, now() + interval '10 minutes', greatest(coalesce((SELECT
                 max(fair_key) + 1 FROM tasks WHERE owner = 'bob' AND status = 'queued'), 0),
                 coalesce((SELECT min(fair_key) FROM tasks WHERE status = 'queued'), 0))
                 RETURNING id" | head -1)
    check "unpushed round $round: bob's task starts within 2 s" wait_ms 2000 started "$ID"
    echo "# unpushed round $round: bob's task started after $WAITED_MS ms"
    wait_for 10 db_status_is "$ID" completed
done

# Until now Redis was up: every rate decision was made by the script in Redis (shared by
# both frontends), none in process.
fallback_total() {
    echo $(($(metric "http://127.0.0.1:$FA1" taskwire_ratelimit_fallback_total) + \
        $(metric "http://127.0.0.1:$FA2" taskwire_ratelimit_fallback_total)))
}
check "with Redis up no rate decision fell back to the frontends ($(fallback_total))" \
    [ "$(fallback_total)" = 0 ]

# ---- Redis stopped: the fallback still refuses ----
RPID=$(stack_pid redis)
kill -KILL "$RPID"
check "Redis (pid $RPID) is gone" wait_ms 2000 pid_dead "$RPID"
RATE2=$(token rate-a)
flood 12 "$TMP/rate2" "$RATE2" tools/call echo "$CREATE" 10
check "without Redis: rate-a's 12 creates at once are still refused (fallback limits)" \
    [ "$(count_of "$TMP/rate2" 429)" -ge 7 ]
FB=$(fallback_total)
check "... the fallback decisions are counted ($FB)" [ "$FB" -ge 12 ]
check "... and logged at warn" bash -c "grep -h '\"level\":\"warn\"' '$LOGS'/frontend-*.log | grep -qi 'rate'"

# ---- haproxy's cap per client address: 320 idle connections, 300 taken ----
FDS=()
for ((i = 0; i < 320; i++)); do
    exec {fd}<>"/dev/tcp/127.0.0.1/$BASE" || break
    FDS+=("$fd")
done
sleep 0.5 # positioning, not synchronisation: let haproxy act on the last accepts
CLOSED=0
for fd in "${FDS[@]}"; do
    # EOF at once: rejected; a timeout: held open (until timeout http-request, 10 s).
    read -r -t 0.01 -u "$fd" _ 2>/dev/null
    [ $? -le 128 ] && CLOSED=$((CLOSED + 1))
    exec {fd}>&-
done
echo "# per-source cap: ${#FDS[@]} connections opened, $CLOSED closed by haproxy at once"
check "haproxy held 300 connections from one address and closed the other 20" \
    [ "${#FDS[@]}/$CLOSED" = 320/20 ]
fault_finish
