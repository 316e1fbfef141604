#!/usr/bin/env bash
# Tasks are bound to the principal that created them.  For every method that takes a task
# id or a requestState, another principal (mallory) gets exactly the answer an unknown id
# gets and changes nothing: tasks/get, tasks/cancel, tasks/update, subscriptions/listen and
# an MRTR retry carrying alice's requestState.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
ALICE=$(token alice)
MALLORY=$(token mallory)
UNKNOWN_ID=01a20000-0000-7000-8000-000000000000
CAPS='{"elicitation":{},"extensions":{"io.modelcontextprotocol/tasks":{}}}'

# call URL TOKEN METHOD NAME PARAMS_JSON: like rpc, declaring elicitation too.
call() {
    local body
    RPC_ID=$((RPC_ID + 1))
    body=$(jq -cn --argjson p "$5" --argjson m "$(meta "$CAPS")" --arg method "$3" \
        --argjson id "$RPC_ID" '{jsonrpc:"2.0",id:$id,method:$method,params:($p + {_meta:$m})}')
    raw "$1" "$2" "$3" "$4" "$body"
}
# answer_of: the HTTP status and the whole error (or result) of the last reply, as one line.
answer_of() { echo "$STATUS $(jq -c '.error // .result' <<<"$BODY" 2>/dev/null)"; }
db() { psql_q "$1"; }
rows_of() { db "SELECT count(*) FROM tasks WHERE owner = '$1'"; }
MALLORY_ROWS=$(rows_of mallory)

# ---- tasks/get and tasks/cancel ----
call_task "$PROXY" "$ALICE" sleep '{"seconds":20,"steps":2}'
ID=$TASK_ID
check "alice created a task" [ -n "$ID" ]
rpc "$FRONTEND_A" "$MALLORY" tasks/get "{\"taskId\":\"$UNKNOWN_ID\"}" "$UNKNOWN_ID"
UNKNOWN=$(answer_of)
check "an unknown id reads as 200 -32602" [ "$(jbody .error.code)" = -32602 ]
rpc "$FRONTEND_A" "$MALLORY" tasks/get "{\"taskId\":\"$ID\"}" "$ID"
check "tasks/get: a foreign task reads exactly like an unknown one" [ "$(answer_of)" = "$UNKNOWN" ]
rpc "$FRONTEND_B" "$MALLORY" tasks/cancel "{\"taskId\":\"$UNKNOWN_ID\"}" "$UNKNOWN_ID"
UNKNOWN_CANCEL=$(answer_of)
rpc "$FRONTEND_B" "$MALLORY" tasks/cancel "{\"taskId\":\"$ID\"}" "$ID"
check "tasks/cancel: mallory's cancel is refused exactly like an unknown id" \
    [ "$(answer_of)" = "$UNKNOWN_CANCEL" ]
check "tasks/cancel: ... with -32602" [ "$(jbody .error.code)" = -32602 ]
check "alice's task still lives" [ "$(task_status "$FRONTEND_B" "$ALICE" "$ID")" = working ]
rpc "$FRONTEND_B" "$ALICE" tasks/cancel "{\"taskId\":\"$ID\"}" "$ID"
check "alice can cancel it" status_is "$FRONTEND_A" "$ALICE" "$ID" cancelled
rpc "$PROXY" "$ALICE" tasks/get '{"taskId":"not-a-uuid"}' not-a-uuid
check "a malformed task id is -32602 too" [ "$(jbody '.error.code')" = -32602 ]

# ---- tasks/update ----
# alice's confirm_delete waits for her confirmation; mallory answers "yes, delete".
call "$FRONTEND_A" "$ALICE" tools/call confirm_delete '{"name":"confirm_delete","arguments":{"filename":"a.txt"}}'
UID_=$(jbody .result.taskId)
check "alice's confirm_delete is a task" [ -n "$UID_" ]
waiting() { [ "$(db "SELECT status FROM tasks WHERE id = '$UID_'")" = input_required ]; }
check "it waits for alice's input (10 s)" wait_for 10 waiting
YES='{"confirm":{"action":"accept","content":{"confirm":true}}}'
call "$FRONTEND_B" "$MALLORY" tasks/update "$UNKNOWN_ID" "{\"taskId\":\"$UNKNOWN_ID\",\"inputResponses\":$YES}"
UNKNOWN_UPDATE=$(answer_of)
check "tasks/update of an unknown id: 200 -32602" [ "$STATUS $(jbody .error.code)" = "200 -32602" ]
BEFORE=$(db "SELECT status || ' ' || coalesce(input_responses::text, '-') || ' ' ||
             coalesce(input_requests::text, '-') || ' ' || updated_at FROM tasks WHERE id = '$UID_'")
call "$FRONTEND_B" "$MALLORY" tasks/update "$UID_" "{\"taskId\":\"$UID_\",\"inputResponses\":$YES}"
check "tasks/update: mallory's answer is refused exactly like an unknown id" \
    [ "$(answer_of)" = "$UNKNOWN_UPDATE" ]
AFTER=$(db "SELECT status || ' ' || coalesce(input_responses::text, '-') || ' ' ||
            coalesce(input_requests::text, '-') || ' ' || updated_at FROM tasks WHERE id = '$UID_'")
check "tasks/update: alice's row is untouched (status, answers, questions, updated_at)" \
    [ "$AFTER" = "$BEFORE" ]
check "tasks/update: ... and still waits for input" [ "${AFTER%% *}" = input_required ]
call "$FRONTEND_A" "$ALICE" tasks/update "$UID_" "{\"taskId\":\"$UID_\",\"inputResponses\":{\"confirm\":{\"action\":\"decline\"}}}"
check "alice's own answer is taken" [ "$STATUS $(jbody .result.resultType)" = "200 complete" ]
check "her task completes (10 s)" wait_for 10 status_is "$FRONTEND_A" "$ALICE" "$UID_" completed
rpc "$FRONTEND_A" "$ALICE" tasks/get "{\"taskId\":\"$UID_\"}" "$UID_"
check "with alice's answer, not mallory's (the file is kept)" \
    [ "$(jbody '.result.result.content[0].text')" = "Kept a.txt" ]

# ---- subscriptions/listen ----
# listen TOKEN ID... : start a listen stream for the ids on frontend B into $TMP/listen.N
# (N counts streams); sets LISTEN_FILE and LISTEN_PID.
NLISTEN=0
listen() {
    local tok=$1 body
    shift
    NLISTEN=$((NLISTEN + 1))
    LISTEN_FILE=$TMP/listen.$NLISTEN
    body=$(jq -cn --argjson m "$(meta)" --arg sid "sub-$NLISTEN" '$ARGS.positional as $ids |
        {jsonrpc:"2.0",id:$sid,method:"subscriptions/listen",
         params:{notifications:{taskIds:$ids},_meta:$m}}' --args "$@")
    curl -sN -m 30 -X POST "$FRONTEND_B" -H 'Content-Type: application/json' \
        -H 'Accept: application/json, text/event-stream' -H 'MCP-Protocol-Version: 2026-07-28' \
        -H 'Mcp-Method: subscriptions/listen' -H "Authorization: Bearer $tok" -d "$body" \
        >"$LISTEN_FILE" 2>/dev/null &
    LISTEN_PID=$!
}
# messages FILE: the JSON messages of an SSE stream, one per line.
messages() { sed -n 's/^data: //p' "$1"; }
acked() { [ -n "$(messages "$1" | head -n 1)" ]; }
ack_ids() { messages "$1" | head -n 1 | jq -c '[.method, .params.notifications.taskIds]'; }

# Only a foreign id: the acknowledgement keeps nothing.
call_task "$PROXY" "$ALICE" sleep '{"seconds":0.5,"steps":1}'
AL=$TASK_ID
listen "$MALLORY" "$AL"
check "listen on a foreign id only: acknowledged (10 s)" wait_for 10 acked "$LISTEN_FILE"
kill "$LISTEN_PID" 2>/dev/null
check "listen on a foreign id only: the acknowledgement lists no task" \
    [ "$(ack_ids "$LISTEN_FILE")" = '["notifications/subscriptions/acknowledged",[]]' ]
# A foreign id next to mallory's own task, which waits for her answer: alice's task runs
# (with progress) and completes while the stream is open; then mallory answers, and when her
# own task has completed on the stream, alice's events came before it.  None may be sent.
call "$FRONTEND_A" "$MALLORY" tools/call confirm_delete '{"name":"confirm_delete","arguments":{"filename":"m.txt"}}'
ML=$(jbody .result.taskId)
mine_waits() { [ "$(db "SELECT status FROM tasks WHERE id = '$ML'")" = input_required ]; }
check "mallory's own task waits for her input (10 s)" wait_for 10 mine_waits
call_task "$PROXY" "$ALICE" sleep '{"seconds":3,"steps":3}'
AL=$TASK_ID
listen "$MALLORY" "$AL" "$ML"
FILE=$LISTEN_FILE
check "mallory's stream is acknowledged (10 s)" wait_for 10 acked "$FILE"
check "... while alice's task still runs" [ "$(task_status "$PROXY" "$ALICE" "$AL")" = working ]
check "alice's task completes meanwhile (15 s)" wait_for 15 status_is "$PROXY" "$ALICE" "$AL" completed
call "$FRONTEND_A" "$MALLORY" tasks/update "$ML" "{\"taskId\":\"$ML\",\"inputResponses\":{\"confirm\":{\"action\":\"decline\"}}}"
mine_done() { messages "$FILE" | grep -F "\"$ML\"" | grep -qF '"status":"completed"'; }
check "then mallory's stream sees her own task complete (15 s)" wait_for 15 mine_done
kill "$LISTEN_PID" 2>/dev/null
check "mallory's stream: the acknowledgement keeps only her own task" \
    [ "$(ack_ids "$FILE")" = "[\"notifications/subscriptions/acknowledged\",[\"$ML\"]]" ]
check "mallory's stream never mentions alice's task" [ "$(grep -cF "$AL" "$FILE")" = 0 ]

# ---- MRTR: alice's requestState presented by mallory ----
call "$FRONTEND_A" "$ALICE" tools/call test_tool_with_task '{"name":"test_tool_with_task","arguments":{}}'
RS=$(jbody .result.requestState)
check "alice's round 1 is an InputRequiredResult with a requestState" \
    [ "$(jbody '.result.resultType') ${RS:+state}" = "input_required state" ]
# The task behind the round, from the signed payload (v1|task id|expiry|nonce|digest).
PAYLOAD=$(tr '_-' '/+' <<<"${RS%%.*}")
while [ $((${#PAYLOAD} % 4)) != 0 ]; do PAYLOAD+="="; done
RID=$(base64 -d <<<"$PAYLOAD" 2>/dev/null | cut -d'|' -f2)
check "the round is backed by a task of alice's" [ "$(db "SELECT owner FROM tasks WHERE id = '$RID'")" = alice ]
RBEFORE=$(db "SELECT status || ' ' || coalesce(input_responses::text, '-') || ' ' || updated_at
              FROM tasks WHERE id = '$RID'")
MALLORY_RETRY=$(jq -cn --arg rs "$RS" '{name:"test_tool_with_task",arguments:{},
    inputResponses:{user_name:{action:"accept",content:{name:"Mallory"}}},requestState:$rs}')
call "$FRONTEND_B" "$MALLORY" tools/call test_tool_with_task "$MALLORY_RETRY"
check "mallory's retry with alice's requestState is refused: 200 -32602" \
    [ "$STATUS $(jbody .error.code)" = "200 -32602" ]
check "... as a requestState of another caller" \
    contains "$(jbody .error.message)" "does not belong to this caller"
check "... and hands out no task" [ "$(jbody '.result.taskId // "none"')" = none ]
check "nothing was stored on alice's task" \
    [ "$(db "SELECT status || ' ' || coalesce(input_responses::text, '-') || ' ' || updated_at
             FROM tasks WHERE id = '$RID'")" = "$RBEFORE" ]
check "no task was created for mallory by any of it" [ "$(rows_of mallory)" = $((MALLORY_ROWS + 1)) ]
ALICE_RETRY=$(jq -cn --arg rs "$RS" '{name:"test_tool_with_task",arguments:{},
    inputResponses:{user_name:{action:"accept",content:{name:"Alice"}}},requestState:$rs}')
call "$FRONTEND_B" "$ALICE" tools/call test_tool_with_task "$ALICE_RETRY"
check "alice's own retry gets that task" [ "$(jbody '.result | "\(.resultType) \(.taskId)"')" = "task $RID" ]
check "it completes (10 s)" wait_for 10 status_is "$FRONTEND_A" "$ALICE" "$RID" completed
rpc "$FRONTEND_A" "$ALICE" tasks/get "{\"taskId\":\"$RID\"}" "$RID"
check "with alice's answer only" \
    [ "$(jbody '.result.result.content[0].text')" = "Hello, Alice! The task is done." ]
finish
