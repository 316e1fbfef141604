#!/usr/bin/env bash
# Resources, prompts and completions on the running stack (JWT auth, fixtures on): what
# discover advertises, the fixture resources and prompts, the Mcp-Name header checks of
# resources/read and prompts/get, the caller's tasks as taskwire://tasks/{taskId} and their
# ids as completions (alice's only, never mallory's, on either frontend), task_summary, an
# MRTR prompt whose rounds land on different frontends, and prompts/list_changed on a listen
# stream of one frontend when the trigger runs through the other.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
ALICE=$(token content-alice) # principals of their own: "newest task" means this test's
MALLORY=$(token content-mallory)
UNKNOWN_ID=01a20000-0000-7000-8000-000000000000
ELICIT='{"elicitation":{}}'

# call URL TOKEN METHOD NAME PARAMS_JSON [CAPS]: like rpc, with explicit capabilities.
call() {
    local body
    RPC_ID=$((RPC_ID + 1))
    body=$(jq -cn --argjson p "$5" --argjson m "$(meta "${6:-$ELICIT}")" --arg method "$3" \
        --argjson id "$RPC_ID" '{jsonrpc:"2.0",id:$id,method:$method,params:($p + {_meta:$m})}')
    raw "$1" "$2" "$3" "$4" "$body"
}
# read_uri URL TOKEN URI: resources/read with the matching Mcp-Name.
read_uri() { rpc "$1" "$2" resources/read "$(jq -cn --arg u "$3" '{uri:$u}')" "$3"; }
# complete_ids URL TOKEN PREFIX: completion of taskwire://tasks/{taskId}; prints the values.
complete_ids() {
    rpc "$1" "$2" completion/complete "$(jq -cn --arg v "$3" \
        '{ref:{type:"ref/resource",uri:"taskwire://tasks/{taskId}"},argument:{name:"taskId",value:$v}}')"
    jbody '.result.completion.values[]?'
}
# error_without_uri: the last error with data.uri removed, as one line.
error_without_uri() { jq -c '.error | del(.data.uri)' <<<"$BODY"; }

# ---- discover and lists ----
rpc "$PROXY" "$ALICE" server/discover '{}'
check "discover advertises resources, prompts (listChanged) and completions" \
    [ "$(jbody '.result.capabilities | [.resources, .prompts, .completions] | tojson')" = \
    '[{},{"listChanged":true},{}]' ]
rpc "$PROXY" "$ALICE" resources/list '{}'
check "resources/list: the fixture resources and the task view App, public" \
    [ "$(jbody '[.result.resources[].uri, .result.cacheScope] | join(" ")')" = \
    "test://static-text test://static-binary test://watched-resource ui://taskwire/task public" ]
rpc "$PROXY" "$ALICE" resources/templates/list '{}'
check "resources/templates/list: the task template first" \
    [ "$(jbody '.result.resourceTemplates[0].uriTemplate')" = "taskwire://tasks/{taskId}" ]
rpc "$PROXY" "$ALICE" prompts/list '{}'
check "prompts/list: task_summary and the fixtures, each described" \
    [ "$(jbody '[.result.prompts[] | select(.description != "") | .name] | length')" = 6 ]
rpc "$PROXY" "$ALICE" resources/list '{"cursor":"x"}'
check "a cursor never handed out is 200 -32602" [ "$STATUS $(jbody .error.code)" = "200 -32602" ]

# ---- fixed resources, templates and the Mcp-Name header ----
read_uri "$FRONTEND_A" "$ALICE" test://static-text
check "resources/read test://static-text" \
    [ "$(jbody '.result.contents[0].text')" = "This is the content of the static text resource." ]
read_uri "$FRONTEND_B" "$ALICE" test://template/123/data
check "resources/read of the fixture template names the id" \
    [ "$(jbody '.result.contents[0].text | fromjson | .id')" = 123 ]
rpc "$PROXY" "$ALICE" resources/read '{"uri":"test://static-text"}'
check "resources/read without Mcp-Name: 400 -32020" [ "$STATUS $(jbody .error.code)" = "400 -32020" ]
rpc "$PROXY" "$ALICE" resources/read '{"uri":"test://static-text"}' test://static-binary
check "resources/read with another Mcp-Name: 400 -32020" [ "$STATUS $(jbody .error.code)" = "400 -32020" ]
rpc "$PROXY" "$ALICE" prompts/get '{"name":"test_simple_prompt"}'
check "prompts/get without Mcp-Name: 400 -32020" [ "$STATUS $(jbody .error.code)" = "400 -32020" ]
ODD='test://naïve'
rpc "$PROXY" "$ALICE" resources/read "$(jq -cn --arg u "$ODD" '{uri:$u}')" \
    "=?base64?$(printf '%s' "$ODD" | base64 -w0)?="
check "a non-ASCII uri in the base64 sentinel is checked, then not found (200 -32602 data.uri)" \
    [ "$STATUS $(jbody .error.code) $(jbody .error.data.uri)" = "200 -32602 $ODD" ]
rpc "$PROXY" "$ALICE" resources/read \
    '{"uri":"test://nonexistent-resource-for-conformance-testing"}' \
    test://nonexistent-resource-for-conformance-testing
check "an unknown resource: -32602 'Resource not found' with data.uri, no contents" \
    [ "$(jbody '[.error.code, .error.message, .error.data.uri, (.result == null)] | tojson')" = \
    '[-32602,"Resource not found","test://nonexistent-resource-for-conformance-testing",true]' ]

# ---- prompts with arguments ----
rpc "$FRONTEND_A" "$ALICE" prompts/get \
    '{"name":"test_prompt_with_arguments","arguments":{"arg1":"one","arg2":"two"}}' \
    test_prompt_with_arguments
check "prompts/get with arguments puts both in the message" \
    [ "$(jbody '.result.messages[0].content.text')" = "Prompt with arguments: arg1='one', arg2='two'" ]
rpc "$FRONTEND_B" "$ALICE" prompts/get '{"name":"test_prompt_with_arguments","arguments":{"arg1":"one"}}' \
    test_prompt_with_arguments
check "a missing required argument: 200 -32602" [ "$STATUS $(jbody .error.code)" = "200 -32602" ]
rpc "$PROXY" "$ALICE" completion/complete \
    '{"ref":{"type":"ref/prompt","name":"test_prompt_with_arguments"},"argument":{"name":"arg1","value":"testValue2"}}'
check "completion of a prompt argument from its fixed list" \
    [ "$(jbody '.result.completion.values | tojson')" = '["testValue2"]' ]

# ---- the caller's tasks as resources ----
call_task "$PROXY" "$ALICE" sleep '{"seconds":0.2,"steps":1}'
ID=$TASK_ID
check "alice created a task" [ -n "$ID" ]
check "it completes (10 s)" wait_for 10 status_is "$PROXY" "$ALICE" "$ID" completed
URI="taskwire://tasks/$ID"
read_uri "$FRONTEND_A" "$ALICE" "$URI"
check "alice reads her task: completed, with its result, private" \
    [ "$(jbody '[(.result.contents[0].text | fromjson | .taskId, .status, (.result != null)),
        .result.cacheScope, .result.contents[0].mimeType] | tojson')" = \
    "[\"$ID\",\"completed\",true,\"private\",\"application/json\"]" ]
read_uri "$FRONTEND_B" "$ALICE" "$URI"
check "... through the other frontend too" [ "$(jbody '.result.contents[0].uri')" = "$URI" ]
read_uri "$FRONTEND_A" "$MALLORY" "taskwire://tasks/$UNKNOWN_ID"
UNKNOWN=$(error_without_uri)
check "an unknown task id: 200 -32602 with data.uri" \
    [ "$STATUS $(jbody .error.code) $(jbody .error.data.uri)" = "200 -32602 taskwire://tasks/$UNKNOWN_ID" ]
read_uri "$FRONTEND_B" "$MALLORY" "$URI"
check "mallory reading alice's task gets exactly the unknown-id answer" \
    [ "$STATUS $(error_without_uri) $(jbody .error.data.uri)" = "200 $UNKNOWN $URI" ]
rpc "$PROXY" "$MALLORY" prompts/get "{\"name\":\"task_summary\",\"arguments\":{\"taskId\":\"$ID\"}}" task_summary
check "task_summary of alice's task for mallory: 200 -32602" [ "$STATUS $(jbody .error.code)" = "200 -32602" ]
rpc "$PROXY" "$ALICE" prompts/get "{\"name\":\"task_summary\",\"arguments\":{\"taskId\":\"$ID\"}}" task_summary
check "task_summary for alice embeds her task" \
    [ "$(jbody '.result.messages[0].content.resource.uri')" = "$URI" ]

# ---- task ids as completions ----
call_task "$PROXY" "$MALLORY" sleep '{"seconds":0.2,"steps":1}'
MID=$TASK_ID
check "mallory created a task" [ -n "$MID" ]
check "alice's completion of '' starts with her newest task" [ "$(complete_ids "$FRONTEND_A" "$ALICE" "" | head -n 1)" = "$ID" ]
check "... and never offers mallory's" [ "$(complete_ids "$FRONTEND_B" "$ALICE" "" | grep -cF "$MID")" = 0 ]
check "alice's completion of the first 6 characters of her id offers it" \
    [ "$(complete_ids "$FRONTEND_B" "$ALICE" "${ID:0:6}" | grep -cxF "$ID")" = 1 ]
check "mallory's completion of that prefix never offers alice's id" \
    [ "$(complete_ids "$FRONTEND_A" "$MALLORY" "${ID:0:6}" | grep -cF "$ID")" = 0 ]
check "mallory's completion of her own prefix offers her id" \
    [ "$(complete_ids "$FRONTEND_A" "$MALLORY" "${MID:0:1}" | grep -cxF "$MID")" = 1 ]
check "the completion of a whole id of alice's for mallory is empty" \
    [ "$(complete_ids "$PROXY" "$MALLORY" "$ID" | wc -l)" = 0 ]

# ---- an MRTR prompt across frontends ----
IRR=test_input_required_result_prompt
call "$FRONTEND_A" "$ALICE" prompts/get "$IRR" "{\"name\":\"$IRR\"}"
RS=$(jbody .result.requestState)
check "round 1 (A): input_required asking user_context" \
    [ "$(jbody '[.result.resultType, .result.inputRequests.user_context.method] | tojson')" = \
    '["input_required","elicitation/create"]' ]
check "... with a requestState" [ -n "$RS" ]
ANSWER='{"user_context":{"action":"accept","content":{"context":"from B"}}}'
call "$FRONTEND_B" "$MALLORY" prompts/get "$IRR" \
    "$(jq -cn --arg n "$IRR" --arg s "$RS" --argjson a "$ANSWER" '{name:$n,requestState:$s,inputResponses:$a}')"
check "mallory presenting alice's requestState: 200 -32602" [ "$STATUS $(jbody .error.code)" = "200 -32602" ]
call "$FRONTEND_B" "$ALICE" prompts/get "$IRR" \
    "$(jq -cn --arg n "$IRR" --arg s "$RS" --argjson a "$ANSWER" '{name:$n,requestState:$s,inputResponses:$a}')"
check "round 2 (B) completes with alice's answer" \
    [ "$(jbody '.result.messages[0].content.text')" = "Prompt with context: from B" ]

# ---- prompts/list_changed on a listen stream ----
body=$(jq -cn --argjson m "$(meta '{}')" \
    '{jsonrpc:"2.0",id:"sub-p",method:"subscriptions/listen",params:{notifications:{promptsListChanged:true,toolsListChanged:false},_meta:$m}}')
curl -sN -m 20 -X POST "$FRONTEND_A" -H 'Content-Type: application/json' \
    -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2026-07-28' \
    -H 'Mcp-Method: subscriptions/listen' -H "Authorization: Bearer $ALICE" -d "$body" \
    >"$TMP/listen" 2>/dev/null &
LISTEN_PID=$!
acked() { grep -q 'notifications/subscriptions/acknowledged' "$TMP/listen"; }
check "the listen stream (A) is acknowledged with promptsListChanged (10 s)" wait_for 10 acked
call "$FRONTEND_B" "$MALLORY" tools/call test_trigger_prompt_change \
    '{"name":"test_trigger_prompt_change","arguments":{}}' '{}'
check "the trigger (B) answers" [ "$STATUS $(jbody '.result.isError')" = "200 false" ]
changed() { grep -q 'notifications/prompts/list_changed' "$TMP/listen"; }
check "notifications/prompts/list_changed reaches the stream on A (5 s)" wait_for 5 changed
kill "$LISTEN_PID" 2>/dev/null
check "... tagged with the subscription id, and no tools/list_changed" \
    [ "$(sed -n 's/^data: //p' "$TMP/listen" | jq -r 'select(.method == "notifications/prompts/list_changed") | .params._meta["io.modelcontextprotocol/subscriptionId"]')|$(grep -c tools/list_changed "$TMP/listen")" = "sub-p|0" ]
finish
