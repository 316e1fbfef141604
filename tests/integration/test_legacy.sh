#!/usr/bin/env bash
# The 2025-11-25 / 2025-06-18 era on the same endpoint and the same tasks, across two
# frontends: a session opened on frontend A is used on frontend B (the signed session id
# needs no frontend memory); tasks created by a legacy client are read by a modern one and
# the other way round; every task method and a routed answer to a server-to-client request
# refuse another principal exactly like an unknown id; the transport rules (202, 404 for a
# session that is not the caller's, 405 for GET and DELETE, -32022 with the versions
# served, errors in HTTP 200, no SSE event ids); tool log messages streamed in both eras.
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2016,SC2034 # all_of/check take conditions as single-quoted strings, evaluated later
. "$(dirname "$0")/lib.sh"
ALICE=$(token alice)
MALLORY=$(token mallory)
UNKNOWN_ID=01a20000-0000-7000-8000-000000000000
L_ID=100

# lpost URL TOKEN SESSION VERSION BODY [CURL_ARGS...]: POST a legacy message as a 2025
# client does (no _meta claim, no Mcp-Method); sets STATUS and BODY, headers in $TMP/lh.
lpost() {
    local url=$1 tok=$2 sid=$3 ver=$4 body=$5
    shift 5
    printf '%s' "$body" >"$TMP/lreq"
    local args=(-sS -o "$TMP/body" -D "$TMP/lh" -w '%{http_code}' -X POST "$url"
        -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream'
        --data-binary @"$TMP/lreq")
    [ -n "$sid" ] && args+=(-H "Mcp-Session-Id: $sid")
    [ -n "$ver" ] && args+=(-H "MCP-Protocol-Version: $ver")
    [ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
    STATUS=$(curl "${args[@]}" "$@" 2>"$TMP/curl.err") || STATUS=000
    BODY=$(cat "$TMP/body" 2>/dev/null || true)
}
# lreq URL TOKEN SESSION METHOD PARAMS_JSON [CURL_ARGS...]: a legacy request of a
# 2025-11-25 session.
lreq() {
    L_ID=$((L_ID + 1))
    lpost "$1" "$2" "$3" 2025-11-25 \
        "$(jq -cn --arg m "$4" --argjson p "$5" --argjson id "$L_ID" \
            '{jsonrpc:"2.0",id:$id,method:$m,params:$p}')" "${@:6}"
}
# last_json: the JSON-RPC message of the last BODY (the last data: line of an SSE body).
last_json() {
    if grep -q '^data: ' <<<"$BODY"; then grep '^data: ' <<<"$BODY" | tail -n 1 | cut -c7-; else
        printf '%s' "$BODY"; fi
}
ljq() { last_json | jq -r "$@" 2>/dev/null; }
header_of() { grep -i "^$1:" "$TMP/lh" | head -n 1 | cut -d' ' -f2- | tr -d '\r'; }
# init URL TOKEN VERSION [CAPS_JSON]: initialize; sets SID to the session id issued.
init() {
    local caps=${4:-'{}'}
    lpost "$1" "$2" "" "" "$(jq -cn --arg v "$3" --argjson c "$caps" \
        '{jsonrpc:"2.0",id:0,method:"initialize",params:{protocolVersion:$v,capabilities:$c,
          clientInfo:{name:"it-legacy",version:"1"}}}')"
    SID=$(header_of mcp-session-id)
}
db() { psql_q "$1"; }
db_status() { db "SELECT status FROM tasks WHERE id = '$1'"; }
no_event_ids() { ! grep -q '^id:' <<<"$BODY"; }

# ---- the session: opened on A, used on B ----
init "$FRONTEND_A" "$ALICE" 2025-11-25 '{"elicitation":{},"sampling":{}}'
A_SID=$SID
check "initialize on A: 200, echoes 2025-11-25, advertises tasks for tools/call" all_of \
    '[ "$STATUS" = 200 ]' '[ "$(ljq .result.protocolVersion)" = 2025-11-25 ]' \
    '[ "$(ljq ".result.capabilities.tasks.requests.tools.call | type")" = object ]'
check "initialize issues a visible-ASCII session id" all_of '[[ "$A_SID" =~ ^s1\.[!-~]+$ ]]'
lpost "$FRONTEND_B" "$ALICE" "$A_SID" 2025-11-25 '{"jsonrpc":"2.0","method":"notifications/initialized"}'
check "notifications/initialized on B: 202, empty body" all_of '[ "$STATUS" = 202 ]' '[ -z "$BODY" ]'
lreq "$FRONTEND_B" "$ALICE" "$A_SID" ping '{}'
check "ping on B with A's session: exactly {}" [ "$(ljq -c .result)" = "{}" ]
lreq "$FRONTEND_B" "$ALICE" "$A_SID" logging/setLevel '{"level":"debug"}'
check "logging/setLevel: exactly {}" [ "$(ljq -c .result)" = "{}" ]
init "$FRONTEND_B" "$ALICE" 2025-06-18
check "initialize 2025-06-18 is echoed, without tasks" all_of \
    '[ "$(ljq .result.protocolVersion)" = 2025-06-18 ]' '[ "$(ljq .result.capabilities.tasks)" = null ]'
OLD_SID=$SID
init "$FRONTEND_B" "$ALICE" 2024-11-05
check "initialize of a version not served gets the latest legacy one offered" \
    [ "$(ljq .result.protocolVersion)" = 2025-11-25 ]

# ---- transport rules ----
lreq "$FRONTEND_B" "$MALLORY" "$A_SID" ping '{}'
check "alice's session used by mallory: 404" [ "$STATUS" = 404 ]
# The last character changed (to A, or to B when it is an A already: never the same id).
LAST=${A_SID: -1}
lreq "$FRONTEND_A" "$ALICE" "${A_SID%?}$([ "$LAST" = A ] && echo B || echo A)" ping '{}'
TAMPERED=$STATUS
lreq "$FRONTEND_A" "$ALICE" "s1.garbage" ping '{}'
check "a tampered or made-up session id: 404" [ "$TAMPERED $STATUS" = "404 404" ]
lpost "$PROXY" "$ALICE" "$A_SID" 2024-11-05 '{"jsonrpc":"2.0","id":5,"method":"ping"}'
check "an unsupported MCP-Protocol-Version: 400 -32022 with every version served" all_of \
    '[ "$STATUS" = 400 ]' '[ "$(ljq .error.code)" = -32022 ]' \
    '[ "$(ljq -c .error.data.supported)" = "[\"2026-07-28\",\"2025-11-25\",\"2025-06-18\"]" ]'
for m in GET DELETE; do
    code=$(curl -sS -o /dev/null -D "$TMP/lh" -w '%{http_code}' -X "$m" "$PROXY" \
        -H "Authorization: Bearer $ALICE" -H "Mcp-Session-Id: $A_SID")
    check "$m: 405 with Allow: POST" all_of '[ "$code" = 405 ]' '[ "$(header_of allow)" = POST ]'
done
lreq "$PROXY" "$ALICE" "$A_SID" tools/call '{"name":"sleep","arguments":{"seconds":1}}'
check "a task-required tool without params.task: -32601 in HTTP 200" \
    [ "$STATUS $(ljq .error.code)" = "200 -32601" ]
lreq "$PROXY" "$ALICE" "$A_SID" tasks/get "{\"taskId\":\"$UNKNOWN_ID\"}"
UNKNOWN_GET="$STATUS $(ljq -c .error)"
check "tasks/get of an unknown task: -32602 in HTTP 200" [ "$STATUS $(ljq .error.code)" = "200 -32602" ]
lreq "$PROXY" "$ALICE" "$A_SID" server/discover '{}'
check "a 2026-only method in a legacy session: -32601" [ "$(ljq .error.code)" = -32601 ]
lreq "$FRONTEND_B" "$ALICE" "$A_SID" tools/list '{}'
check "tools/list: sleep required, echo optional, no 2026-only fields" all_of \
    '[ "$(ljq "[.result.tools[] | select(.name == \"sleep\")][0].execution.taskSupport")" = required ]' \
    '[ "$(ljq "[.result.tools[] | select(.name == \"echo\")][0].execution.taskSupport")" = optional ]' \
    '[ "$(ljq ".result | has(\"resultType\") or has(\"ttlMs\") or has(\"_meta\")")" = false ]'

# ---- a legacy task, read in both eras on both frontends ----
lreq "$FRONTEND_A" "$ALICE" "$A_SID" tools/call \
    '{"name":"sleep","arguments":{"seconds":4,"steps":2},"task":{"ttl":60000}}'
LID=$(ljq .result.task.taskId)
check "task augmentation: a nested CreateTaskResult with the ttl asked for" all_of \
    '[ -n "$LID" ]' '[ "$(ljq .result.task.status)" = working ]' '[ "$(ljq .result.task.ttl)" = 60000 ]'
check "the legacy task reads modern on B" [ "$(task_status "$FRONTEND_B" "$ALICE" "$LID")" = working ]
lreq "$FRONTEND_B" "$ALICE" "$A_SID" tasks/result "{\"taskId\":\"$LID\"}" -m 30
check "tasks/result on B waits for the outcome, with related-task" all_of \
    '[ "$(ljq .result.content[0].text)" = "Slept 4 s in 2 steps." ]' \
    '[ "$(ljq ".result._meta[\"io.modelcontextprotocol/related-task\"].taskId")" = "$LID" ]'
check "legacy SSE streams carry no event ids" no_event_ids
check "the legacy task reads completed modern" status_is "$FRONTEND_A" "$ALICE" "$LID" completed
call_task "$PROXY" "$ALICE" sleep '{"seconds":30,"steps":3}'
MID=$TASK_ID
lreq "$FRONTEND_A" "$ALICE" "$A_SID" tasks/get "{\"taskId\":\"$MID\"}"
check "a modern task reads legacy: status, ttl and pollInterval" all_of \
    '[ "$(ljq .result.status)" = working ]' '[ "$(ljq ".result.ttl | type")" = number ]' \
    '[ "$(ljq ".result.pollInterval | type")" = number ]'
lreq "$FRONTEND_B" "$ALICE" "$A_SID" tasks/list '{}'
check "tasks/list shows both, oldest first" [ "$(ljq "[.result.tasks[].taskId | select(. == \"$LID\" or . == \"$MID\")] | join(\" \")")" = "$LID $MID" ]

# ---- another principal: exactly like an unknown id, and nothing changes ----
init "$FRONTEND_B" "$MALLORY" 2025-11-25 '{"elicitation":{}}'
M_SID=$SID
for m in tasks/get tasks/result tasks/cancel; do
    lreq "$FRONTEND_A" "$MALLORY" "$M_SID" "$m" "{\"taskId\":\"$MID\"}"
    check "$m of alice's task by mallory: like an unknown id" [ "$STATUS $(ljq -c .error)" = "$UNKNOWN_GET" ]
done
lreq "$FRONTEND_A" "$MALLORY" "$M_SID" tasks/list '{}'
check "tasks/list of mallory shows none of alice's tasks" \
    [ "$(ljq "[.result.tasks[].taskId | select(. == \"$LID\" or . == \"$MID\")] | length")" = 0 ]
check "alice's task still runs" [ "$(task_status "$FRONTEND_B" "$ALICE" "$MID")" = working ]
lreq "$FRONTEND_B" "$ALICE" "$A_SID" tasks/cancel "{\"taskId\":\"$MID\"}"
check "tasks/cancel by alice: the Task, cancelled" [ "$(ljq .result.status)" = cancelled ]
check "... and it reads cancelled modern" status_is "$FRONTEND_A" "$ALICE" "$MID" cancelled
lreq "$FRONTEND_A" "$ALICE" "$A_SID" tasks/cancel "{\"taskId\":\"$MID\"}"
check "a second tasks/cancel: -32602" [ "$(ljq .error.code)" = -32602 ]

# ---- answers to server-to-client requests, routed to the task from any frontend ----
# ask TOOL ARGS: a synchronous legacy call streaming to $TMP/ask.sse (in the background);
# sets ASK_PID, then RID to the id of the request it sends and TID to its task.
ask() {
    L_ID=$((L_ID + 1))
    curl -sS -N -m 30 -X POST "$FRONTEND_A" -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' -H "Authorization: Bearer $ALICE" \
        -H "Mcp-Session-Id: $A_SID" -H 'MCP-Protocol-Version: 2025-11-25' \
        -d "{\"jsonrpc\":\"2.0\",\"id\":$L_ID,\"method\":\"tools/call\",\"params\":{\"name\":\"$1\",\"arguments\":$2}}" \
        >"$TMP/ask.sse" 2>/dev/null &
    ASK_PID=$!
    asked() { grep -q '"id":"tw:' "$TMP/ask.sse"; }
    wait_for 15 asked
    RID=$(grep -o '"id":"tw:[^"]*"' "$TMP/ask.sse" | head -n 1 | cut -d'"' -f4)
    TID=$(cut -d: -f2 <<<"$RID")
}
ask test_elicitation '{"message":"Your answer?"}'
check "the elicitation reaches the client's stream as a request with a routable id" \
    all_of '[[ "$RID" =~ ^tw:[0-9a-f-]{36}:.+$ ]]'
answer() { # answer URL TOKEN SESSION JSON: POST a client response to RID
    lpost "$1" "$2" "$3" 2025-11-25 "{\"jsonrpc\":\"2.0\",\"id\":\"$RID\",$4}"
}
answer "$FRONTEND_B" "$MALLORY" "$M_SID" '"result":{"action":"accept","content":{"response":"mallory"}}'
check "mallory's answer is refused (400)" [ "$STATUS" = 400 ]
check "... and changes nothing (alice's task still waits for input)" \
    [ "$(db "SELECT status || ' ' || coalesce(input_responses::text, '-') FROM tasks WHERE id = '$TID'")" = "input_required -" ]
answer "$FRONTEND_B" "$MALLORY" "$M_SID" '"error":{"code":-32601,"message":"no"}'
check "mallory's error answer is refused too, nothing ends" all_of '[ "$STATUS" = 400 ]' \
    '[ "$(db_status "$TID")" = input_required ]'
answer "$FRONTEND_B" "$ALICE" "$A_SID" '"result":{"action":"accept","content":{"response":"yes"}}'
check "alice's answer on B: 202" [ "$STATUS" = 202 ]
wait "$ASK_PID"
BODY=$(cat "$TMP/ask.sse")
check "the call on A resumes with the answer" [ "$(ljq .result.content[0].text)" = 'User response: action=accept, content={"response":"yes"}' ]
ask test_sampling '{"prompt":"2+2?"}'
answer "$FRONTEND_B" "$ALICE" "$A_SID" '"error":{"code":-32601,"message":"no sampling here"}'
check "an error answer: 202" [ "$STATUS" = 202 ]
wait "$ASK_PID"
BODY=$(cat "$TMP/ask.sse")
check "... ends the call with a tool error naming the refusal" all_of \
    '[ "$(ljq .result.isError)" = true ]' '[[ "$(ljq .result.content[0].text)" == *"no sampling here"* ]]'
lpost "$PROXY" "$ALICE" "$A_SID" 2025-11-25 '{"jsonrpc":"2.0","id":"not-ours","result":{}}'
check "a response to an id the server never issued: 400" [ "$STATUS" = 400 ]

# ---- log messages on the stream, and the 2025-06-18 session ----
lreq "$FRONTEND_B" "$ALICE" "$A_SID" tools/call '{"name":"test_tool_with_logging","arguments":{}}'
check "a logging tool streams its three info messages before the result" all_of \
    '[ "$(grep -c "\"method\":\"notifications/message\"" <<<"$BODY")" = 3 ]' \
    '[ "$(ljq .result.content[0].text)" = "Tool with logging executed successfully" ]'
lpost "$FRONTEND_A" "$ALICE" "$OLD_SID" 2025-06-18 '{"jsonrpc":"2.0","id":9,"method":"tasks/list"}'
check "a 2025-06-18 session has no tasks methods" [ "$(ljq .error.code)" = -32601 ]
lpost "$FRONTEND_A" "$ALICE" "$OLD_SID" 2025-06-18 \
    '{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"sleep","arguments":{"seconds":0.2},"task":{}}}'
check "... where a task-required tool answers synchronously (task ignored)" \
    [ "$(ljq .result.content[0].text)" = "Slept 0.2 s in 5 steps." ]

# ---- log messages are a tool feature of both eras: a modern call asks with _meta logLevel ----
# mlog LEVEL: a modern synchronous call of the logging tool asking for LEVEL ("" = not asking).
mlog() {
    local m
    m=$(jq -c --arg l "$1" 'if $l == "" then . else . + {"io.modelcontextprotocol/logLevel": $l} end' \
        <<<"$(meta '{}')")
    raw "$PROXY" "$ALICE" tools/call test_tool_with_logging \
        "{\"jsonrpc\":\"2.0\",\"id\":77,\"method\":\"tools/call\",\"params\":{\"name\":\"test_tool_with_logging\",\"arguments\":{},\"_meta\":$m}}"
}
messages() { grep -c '"method":"notifications/message"' <<<"$BODY"; }
mlog info
check "a modern call with logLevel info streams the three messages, then the result" all_of \
    '[ "$(messages)" = 3 ]' '[ "$(ljq .result.resultType)" = complete ]'
mlog warning
check "logLevel warning filters the info messages out" all_of '[ "$(messages)" = 0 ]' \
    '[ "$(ljq .result.content[0].text)" = "Tool with logging executed successfully" ]'
mlog ""
check "without logLevel: no messages (a plain JSON answer)" all_of '[ "$(messages)" = 0 ]' \
    '[ "$(jbody .result.resultType)" = complete ]'
finish
