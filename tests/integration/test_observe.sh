#!/usr/bin/env bash
# The operator's view on a live stack: one request's W3C trace id is followed from its
# _meta.traceparent to the frontend's log, the worker's log, an external tool's environment
# (deploy/local/tools/traceinfo.sh echoes TRACEPARENT and TRACESTATE) and tasks/get's
# _meta["dev.taskwire/trace"]; a request without one gets a fresh trace.  Then a frontend's
# and both workers' /metrics pass `promtool check metrics`, and the key series are there
# with plausible values: histograms by tool and by method, outcomes by tool, the cluster
# gauges by tool on exactly one worker, build info, and no series for an unknown tool.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
TOK=$(token observe)
TRACE_ID=4bf92f3577b34da6a3ce929d0e0e4736
PARENT="00-$TRACE_ID-00f067aa0ba902b7-01"
STATE_IN="congo=t61rcWkgMzE,rojo=00f067aa0ba902b7"
FE_ADMIN="http://127.0.0.1:$((BASE + 11))/metrics"

# call_traced URL TOKEN TOOL ARGS_JSON EXTRA_META_JSON: tools/call with more _meta keys.
call_traced() {
    RPC_ID=$((RPC_ID + 1))
    local body
    body=$(jq -cn --argjson m "$(meta)" --argjson x "$5" --arg n "$3" --argjson a "$4" \
        --argjson id "$RPC_ID" \
        '{jsonrpc:"2.0",id:$id,method:"tools/call",params:{name:$n,arguments:$a,_meta:($m + $x)}}')
    raw "$1" "$2" tools/call "$3" "$body"
    TASK_ID=$(jbody '.result.taskId // empty')
}
# get URL TOKEN ID: tasks/get into BODY.
get() { rpc "$1" "$2" tasks/get "$(jq -cn --arg t "$3" '{taskId:$t}')" "$3"; }
# (No grep -q at the end of a pipe: with pipefail, the writer's SIGPIPE would fail it.)
# logs_have WHO TRACE: some log line of WHO (frontend or worker) carries trace_id TRACE.
logs_have() { grep -qhF "\"trace_id\":\"$2\"" "$LOGS/$1"-*.log; }
# task_log_has WHO TRACE ID: a line of WHO about task ID carries trace_id TRACE.
task_log_has() {
    grep -hF "\"task_id\":\"$3\"" "$LOGS/$1"-*.log | grep -F "\"trace_id\":\"$2\"" >/dev/null
}

# ---- 1. a traced request ----
call_traced "$PROXY" "$TOK" traceinfo '{}' \
    "$(jq -cn --arg p "$PARENT" --arg s "$STATE_IN" '{traceparent:$p, tracestate:$s}')"
ID=$TASK_ID
check "a traced tools/call of traceinfo makes a task" [ -n "$ID" ]
check "it completes" wait_for 20 status_is "$FRONTEND_A" "$TOK" "$ID" completed
get "$FRONTEND_B" "$TOK" "$ID"
check "tasks/get: _meta dev.taskwire/trace names the request's trace id" \
    [ "$(jbody '.result._meta["dev.taskwire/trace"].traceId')" = "$TRACE_ID" ]
check "tasks/get: its traceparent is in that trace, with the frontend's own span" \
    all_of "jbody '.result._meta[\"dev.taskwire/trace\"].traceparent' | grep -qE '^00-$TRACE_ID-[0-9a-f]{16}-01\$'" \
    "[ \"\$(jbody '.result._meta[\"dev.taskwire/trace\"].traceparent')\" != '$PARENT' ]"
check "tasks/get: the tracestate is kept" \
    [ "$(jbody '.result._meta["dev.taskwire/trace"].tracestate')" = "$STATE_IN" ]
TOOL_PARENT=$(jbody '.result.result.structuredContent.traceparent')
check "the tool's TRACEPARENT is in the trace" contains "$TOOL_PARENT" "00-$TRACE_ID-"
check "the tool's TRACESTATE is the request's" \
    [ "$(jbody '.result.result.structuredContent.tracestate')" = "$STATE_IN" ]
TOOL_SPAN=$(cut -d- -f3 <<<"$TOOL_PARENT")
check "the frontend's log lines of the request carry its trace_id" logs_have frontend "$TRACE_ID"
check "the worker's lines about the task carry the trace_id" task_log_has worker "$TRACE_ID" "$ID"
worker_span() {
    grep -hF "\"task_id\":\"$ID\"" "$LOGS"/worker-*.log | grep -F '"msg":"task started"' |
        grep -F "\"span_id\":\"$TOOL_SPAN\"" >/dev/null
}
check "the tool's parent span is the worker's span of the run (span_id of 'task started')" \
    worker_span

# ---- 2. no trace: a fresh one ----
call_task "$PROXY" "$TOK" traceinfo '{}'
ID2=$TASK_ID
check "an untraced tools/call makes a task" [ -n "$ID2" ]
check "it completes" wait_for 20 status_is "$FRONTEND_A" "$TOK" "$ID2" completed
get "$FRONTEND_A" "$TOK" "$ID2"
FRESH=$(jbody '.result._meta["dev.taskwire/trace"].traceId')
check "tasks/get returns a fresh 32-hex trace id" grep -qE '^[0-9a-f]{32}$' <<<"$FRESH"
check "the tool saw the same trace" contains "$(jbody '.result.result.structuredContent.traceparent')" "-$FRESH-"
check "the worker's lines about the task carry it" task_log_has worker "$FRESH" "$ID2"
check "the frontend's lines carry it" logs_have frontend "$FRESH"

# ---- 3. metrics: some more work, an unknown tool, then scrapes ----
check "promtool is installed (deploy/local/deps --tests)" command -v promtool
for _ in 1 2 3; do call_task "$PROXY" "$TOK" echo '{"text":"hi"}'; done
LAST=$TASK_ID
check "echo tasks complete" wait_for 20 status_is "$FRONTEND_A" "$TOK" "$LAST" completed
rpc "$PROXY" "$TOK" tools/call '{"name":"no_such_tool_xyz","arguments":{}}' no_such_tool_xyz
check "an unknown tool is refused" [ -n "$(jbody '.error.code // .result.isError // empty')" ]
sleep 2 # a sweeper pass (sweep-ms) publishes the cluster gauges
curl -s -m 5 "$FE_ADMIN" >"$TMP/fe.prom"
curl -s -m 5 "http://127.0.0.1:$((BASE + 31))/metrics" >"$TMP/w1.prom"
curl -s -m 5 "http://127.0.0.1:$((BASE + 32))/metrics" >"$TMP/w2.prom"
for f in fe w1 w2; do
    check "promtool check metrics is clean on the $f scrape" \
        bash -c "promtool check metrics <'$TMP/$f.prom' 2>&1 | tee '$TMP/$f.lint'; [ ! -s '$TMP/$f.lint' ]"
done
# metric FILE SERIES: the value of SERIES (name{labels} exactly as exposed), or empty.
metric() { awk -v s="$2" '$1 == s { print $2 }' "$TMP/$1.prom"; }
# wsum SERIES: the sum over both workers.
wsum() { echo $(($(metric w1 "$1" | cut -d. -f1 || true) + $(metric w2 "$1" | cut -d. -f1 || true) + 0)); }
check "frontend: taskwire_build_info is 1" grep -q '^taskwire_build_info{version="[^"]*"} 1$' "$TMP/fe.prom"
check "worker: taskwire_build_info is 1" grep -q '^taskwire_build_info{version="[^"]*"} 1$' "$TMP/w1.prom"
check "frontend: tools/call latencies with status class 2xx were observed" \
    [ "$(metric fe 'taskwire_http_request_duration_seconds_count{method="tools/call",class="2xx"}')" -ge 1 ]
check "frontend: tasks/get latencies too, and their +Inf bucket equals their count" \
    all_of "[ \"\$(metric fe 'taskwire_http_request_duration_seconds_count{method=\"tasks/get\",class=\"2xx\"}')\" -ge 1 ]" \
    "[ \"\$(metric fe 'taskwire_http_request_duration_seconds_bucket{method=\"tasks/get\",class=\"2xx\",le=\"+Inf\"}')\" = \"\$(metric fe 'taskwire_http_request_duration_seconds_count{method=\"tasks/get\",class=\"2xx\"}')\" ]"
check "frontend: dispatch latency observed" [ "$(metric fe taskwire_dispatch_duration_seconds_count)" -ge 1 ]
check "frontend: PostgreSQL connections counted" \
    [ "$(metric fe 'taskwire_postgres_connects_total{result="ok"}')" -ge 1 ]
check "workers: traceinfo's runs: 2 completed in all" \
    [ "$(wsum 'taskwire_tool_runs_total{tool="traceinfo",status="completed"}')" -ge 2 ]
check "workers: traceinfo's durations: 2 observations in all" \
    [ "$(wsum 'taskwire_task_duration_seconds_count{tool="traceinfo"}')" -ge 2 ]
check "workers: echo's queue waits: 3 observations in all" \
    [ "$(wsum 'taskwire_queue_wait_seconds_count{tool="echo"}')" -ge 3 ]
check "workers: slots are exported" [ "$(metric w1 taskwire_worker_slots)" -ge 1 ]
leaders=0
for f in w1 w2; do grep -q '^taskwire_tool_queue_depth{tool="echo"}' "$TMP/$f.prom" && leaders=$((leaders + 1)); done
check "exactly one worker exports the cluster gauges by tool" [ "$leaders" = 1 ]
# The gauges are as of the leader's last sweeper pass: scrape again until it has run.  Only
# this test runs traceinfo on the shared stack (other tests queue echo at any time).
traceinfo_drained() {
    local scrape # not a pipe into grep -q: pipefail would count curl's SIGPIPE
    scrape=$(curl -s -m 5 "http://127.0.0.1:$((BASE + 31))/metrics" \
        "http://127.0.0.1:$((BASE + 32))/metrics")
    grep -q '^taskwire_tool_queue_depth{tool="traceinfo"} 0$' <<<"$scrape"
}
check "the cluster gauges by tool say 0 queued for traceinfo (all done)" wait_for 30 traceinfo_drained
check "the alerts and the Grafana dashboard query only metrics these scrapes export" \
    "$ROOT/tests/monitoring/check_names.sh" "$TMP/fe.prom" "$TMP/w1.prom" "$TMP/w2.prom"
check "no series names the unknown tool" \
    bash -c "! grep -q no_such_tool_xyz '$TMP/fe.prom' '$TMP/w1.prom' '$TMP/w2.prom'"
finish
