#!/usr/bin/env bash
# The MCP 2026-07-28 surface across frontends: a task created through one
# frontend is read, answered (tasks/update), subscribed to and cancelled
# through the others; MRTR rounds may land on any frontend; synchronous calls
# stream progress; foreign origins are refused.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
TOK=$(token protocol-test)
CAPS='{"elicitation":{},"extensions":{"io.modelcontextprotocol/tasks":{}}}'

# call URL METHOD NAME PARAMS [CAPS]: like rpc, with explicit capabilities.
call() {
    local body
    RPC_ID=$((RPC_ID + 1))
    body=$(jq -cn --argjson p "$4" --argjson m "$(meta "${5:-$CAPS}")" --arg method "$2" \
        --argjson id "$RPC_ID" '{jsonrpc:"2.0",id:$id,method:$method,params:($p + {_meta:$m})}')
    raw "$1" "$TOK" "$2" "$3" "$body"
}

# Input while a task runs, answered through another frontend.
call "$FRONTEND_A" tools/call confirm_delete '{"name":"confirm_delete","arguments":{"filename":"a.txt"}}'
ID=$(jbody .result.taskId)
check "confirm_delete is a task" [ -n "$ID" ]
check "it reaches input_required (read through B)" \
    wait_for 10 bash -c "[ \"\$(curl -s -X POST '$FRONTEND_B' -H 'Content-Type: application/json' \
      -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tasks/get' -H 'Authorization: Bearer $TOK' \
      -d '{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tasks/get\",\"params\":{\"taskId\":\"$ID\",\"_meta\":$(meta "$CAPS")}}' \
      | jq -r .result.status)\" = input_required ]"
call "$FRONTEND_B" tasks/get "$ID" "{\"taskId\":\"$ID\"}"
check "inputRequests carries an elicitation/create" [ "$(jbody '.result.inputRequests.confirm.method')" = elicitation/create ]
call "$FRONTEND_A" tasks/get "$ID" "{\"taskId\":\"$ID\"}" '{"extensions":{"io.modelcontextprotocol/tasks":{}}}'
check "a reader without elicitation is not shown the request" [ "$(jbody '.result.inputRequests | length')" = 0 ]
call "$PROXY" tasks/update "$ID" "{\"taskId\":\"$ID\",\"inputResponses\":{\"bogus\":{\"action\":\"accept\",\"content\":{}}}}"
check "answers to unknown keys are ignored with an empty ack" [ "$(jbody '.result.resultType')" = complete ]
check "the task still waits" [ "$(task_status "$FRONTEND_A" "$TOK" "$ID")" = input_required ]
call "$FRONTEND_B" tasks/update "$ID" "{\"taskId\":\"$ID\",\"inputResponses\":{\"confirm\":{\"action\":\"accept\",\"content\":{\"confirm\":true}}}}"
check "tasks/update answers an empty ack" [ "$(jbody '.result | keys | join(",")')" = "_meta,resultType" ]
check "the answered task completes (read through A)" wait_for 10 status_is "$FRONTEND_A" "$TOK" "$ID" completed
rpc "$FRONTEND_A" "$TOK" tasks/get "{\"taskId\":\"$ID\"}" "$ID"
check "its result used the answer" [ "$(jbody '.result.result.content[0].text')" = "Deleted a.txt" ]

# Two questions at once: a partial answer leaves only the other one.
call "$FRONTEND_B" tools/call multi_input '{"name":"multi_input","arguments":{}}'
MID=$(jbody .result.taskId)
check "multi_input asks two questions" wait_for 10 bash -c \
    "[ \"\$(psql -X -At -h 127.0.0.1 -p $((BASE + 40)) -U taskwire -d taskwire -c \"SELECT count(*) FROM tasks, jsonb_object_keys(input_requests) WHERE id = '$MID'\")\" = 2 ]"
call "$FRONTEND_A" tasks/update "$MID" "{\"taskId\":\"$MID\",\"inputResponses\":{\"name\":{\"action\":\"accept\",\"content\":{\"name\":\"Ada\"}}}}"
call "$PROXY" tasks/get "$MID" "{\"taskId\":\"$MID\"}"
check "after one answer only the other key is outstanding" \
    [ "$(jbody '.result.status + " " + (.result.inputRequests | keys | join(","))')" = "input_required color" ]
call "$FRONTEND_B" tasks/update "$MID" "{\"taskId\":\"$MID\",\"inputResponses\":{\"color\":{\"action\":\"accept\",\"content\":{\"color\":\"green\"}}}}"
check "answering the second completes it" wait_for 10 status_is "$FRONTEND_A" "$TOK" "$MID" completed

# MRTR before a task: round 1 on A, the retry on B.
call "$FRONTEND_A" tools/call test_tool_with_task '{"name":"test_tool_with_task","arguments":{}}'
check "round 1 is an InputRequiredResult without a taskId" \
    [ "$(jbody '.result | .resultType + " " + (has("taskId")|tostring)')" = "input_required false" ]
RS=$(jbody .result.requestState)
# Change one character inside the MAC (always a different one, so the state really changes).
P=$((${#RS} - 5))
[ "${RS:P:1}" = A ] && C=B || C=A
call "$FRONTEND_B" tools/call test_tool_with_task "$(jq -cn --arg rs "${RS:0:P}$C${RS:P+1}" '{name:"test_tool_with_task",arguments:{},inputResponses:{},requestState:$rs}')"
check "a tampered requestState is refused" [ "$(jbody .error.code)" = -32602 ]
call "$FRONTEND_B" tools/call test_tool_with_task "$(jq -cn --arg rs "$RS" '{name:"test_tool_with_task",arguments:{x:1},inputResponses:{},requestState:$rs}')"
check "a requestState for other arguments is refused" [ "$(jbody .error.code)" = -32602 ]
call "$FRONTEND_B" tools/call test_tool_with_task "$(jq -cn --arg rs "$RS" '{name:"test_tool_with_task",arguments:{},inputResponses:{user_name:{action:"accept",content:{name:"Alice"}}},requestState:$rs}')"
TID=$(jbody .result.taskId)
check "the retry on another frontend returns a CreateTaskResult" \
    [ "$(jbody '.result | .resultType + " " + (has("requestState")|tostring) + " " + (has("inputRequests")|tostring)')" = "task false false" ]
check "that task completes" wait_for 10 status_is "$FRONTEND_A" "$TOK" "$TID" completed
rpc "$FRONTEND_A" "$TOK" tasks/get "{\"taskId\":\"$TID\"}" "$TID"
check "with the name from the first round" \
    [ "$(jbody '.result.result.content[0].text')" = "Hello, Alice! The task is done." ]

# subscriptions/listen on B for a task created on A.
call_task "$FRONTEND_A" "$TOK" sleep '{"seconds":1,"steps":2}'
LID=$TASK_ID
body=$(jq -cn --arg t "$LID" --argjson m "$(meta)" '{jsonrpc:"2.0",id:"sub-1",method:"subscriptions/listen",params:{notifications:{taskIds:[$t,"01a20000-0000-7000-8000-000000000000"]},_meta:$m}}')
timeout 10 curl -sN -X POST "$FRONTEND_B" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2026-07-28' \
    -H 'Mcp-Method: subscriptions/listen' -H "Authorization: Bearer $TOK" -d "$body" >"$TMP/listen" &
LISTENER=$!
check "the listener sees the task complete" wait_for 10 bash -c "grep -q '\"status\":\"completed\"' '$TMP/listen'"
kill "$LISTENER" 2>/dev/null
FIRST=$(grep -m1 '^data:' "$TMP/listen" | sed 's/^data: //')
check "the acknowledgement comes first and keeps only known task ids" \
    [ "$(jq -c '[.method, .params.notifications.taskIds]' <<<"$FIRST")" = "[\"notifications/subscriptions/acknowledged\",[\"$LID\"]]" ]
check "every message carries the subscriptionId" \
    [ "$(grep '^data:' "$TMP/listen" | sed 's/^data: //' | jq -r '.params._meta["io.modelcontextprotocol/subscriptionId"]' | sort -u)" = sub-1 ]

# Synchronous calls: JSON for plain clients, SSE with progress when asked.
call "$FRONTEND_A" tools/call echo '{"name":"echo","arguments":{"text":"hi"}}' '{}'
check "a synchronous call answers its CallToolResult" \
    [ "$(jbody '.result | .resultType + " " + .content[0].text')" = "complete hi" ]
RPC_ID=$((RPC_ID + 1))
body=$(jq -cn --argjson m "$(meta '{}')" '{jsonrpc:"2.0",id:77,method:"tools/call",params:{name:"slow_compute",arguments:{seconds:1,label:"x"},_meta:($m + {progressToken:"tok-1"})}}')
curl -sN -X POST "$FRONTEND_B" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' \
    -H 'MCP-Protocol-Version: 2026-07-28' -H 'Mcp-Method: tools/call' -H 'Mcp-Name: slow_compute' \
    -H "Authorization: Bearer $TOK" -d "$body" >"$TMP/sse"
check "a synchronous call with a progressToken streams notifications/progress" \
    grep -q '"method":"notifications/progress","params":{"progressToken":"tok-1"' "$TMP/sse"
check "and ends with its result" [ "$(grep '^data:' "$TMP/sse" | tail -1 | sed 's/^data: //' | jq -r '.id')" = 77 ]

# DNS-rebinding protection.
raw "$PROXY" "$TOK" tools/list "" '{}' -H 'Origin: http://evil.example'
check "a foreign Origin is refused with 403" [ "$STATUS" = 403 ]
raw "$PROXY" "$TOK" tools/list "" '{}' -H 'Host: evil.example'
check "a foreign Host is refused with 403" [ "$STATUS" = 403 ]
call "$PROXY" tools/list "" '{}'
check "a localhost Origin-less request is served" [ "$STATUS" = 200 ]
finish
