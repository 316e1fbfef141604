#!/usr/bin/env bash
# Tasks are bound to the principal that created them: another principal gets
# exactly the answer an unknown id gets, and cannot cancel.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
ALICE=$(token alice)
MALLORY=$(token mallory)

call_task "$PROXY" "$ALICE" sleep '{"seconds":20,"steps":2}'
ID=$TASK_ID
check "alice created a task" [ -n "$ID" ]
rpc "$FRONTEND_A" "$MALLORY" tasks/get "{\"taskId\":\"$ID\"}" "$ID"
FOREIGN=$(jbody '.error | "\(.code) \(.message)"')
rpc "$FRONTEND_A" "$MALLORY" tasks/get '{"taskId":"01a20000-0000-7000-8000-000000000000"}' \
    01a20000-0000-7000-8000-000000000000
UNKNOWN=$(jbody '.error | "\(.code) \(.message)"')
check "a foreign task reads as -32602" [ "${FOREIGN%% *}" = -32602 ]
check "foreign and unknown ids get identical errors" [ "$FOREIGN" = "$UNKNOWN" ]
rpc "$FRONTEND_B" "$MALLORY" tasks/cancel "{\"taskId\":\"$ID\"}" "$ID"
check "mallory cannot cancel alice's task" [ "$(jbody '.error.code')" = -32602 ]
check "alice's task still lives" [ "$(task_status "$FRONTEND_B" "$ALICE" "$ID")" = working ]
rpc "$FRONTEND_B" "$ALICE" tasks/cancel "{\"taskId\":\"$ID\"}" "$ID"
check "alice can cancel it" status_is "$FRONTEND_A" "$ALICE" "$ID" cancelled
rpc "$PROXY" "$ALICE" tasks/get '{"taskId":"not-a-uuid"}' not-a-uuid
check "a malformed task id is -32602 too" [ "$(jbody '.error.code')" = -32602 ]
finish
