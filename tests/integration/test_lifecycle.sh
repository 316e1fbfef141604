#!/usr/bin/env bash
# A task created through frontend A is read through frontend B and completes
# with the right result; another is cancelled mid-run and its tool stops.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
TOK=$(token alice)

call_task "$FRONTEND_A" "$TOK" sleep '{"seconds":4,"steps":3}'
check "tools/call answers 200" [ "$STATUS" = 200 ]
check "tools/call returns a flat CreateTaskResult" \
    [ "$(jbody '.result | [.resultType, .status, (.taskId|length), (.task == null), (.ttlMs|type), (.pollIntervalMs|type)] | join(",")')" = "task,working,36,true,number,number" ]
check "CreateTaskResult carries serverInfo" [ "$(jbody '.result._meta["io.modelcontextprotocol/serverInfo"].name')" = taskwire ]
ID=$TASK_ID
# Durable create: the very next read, on the other frontend, finds it (4 s of work: it
# cannot have ended yet).
rpc "$FRONTEND_B" "$TOK" tasks/get "{\"taskId\":\"$ID\"}" "$ID"
check "tasks/get through frontend B resolves at once: 200, the same task, working" \
    [ "$STATUS $(jbody '"\(.result.taskId) \(.result.status)"')" = "200 $ID working" ]
check "task completes (read through B)" wait_for 20 status_is "$FRONTEND_B" "$TOK" "$ID" completed
rpc "$FRONTEND_B" "$TOK" tasks/get "{\"taskId\":\"$ID\"}" "$ID"
check "completed task inlines the tool result" \
    [ "$(jbody '.result.result.content[0].text')" = "Slept 4 s in 3 steps." ]
check "inlined result has resultType complete" [ "$(jbody '.result.result.resultType')" = complete ]
check "tasks/get result has resultType complete" [ "$(jbody '.result.resultType')" = complete ]
check "progress reached 3/3" [ "$(jbody '.result._meta["dev.taskwire/progress"] | "\(.progress)/\(.total)"')" = "3/3" ]
check "exactly one outcome stored, attempt 1" \
    [ "$(psql_q "SELECT status || ' ' || attempt FROM tasks WHERE id = '$ID'")" = "completed 1" ]

# Cancel a running task through the proxy; the tool must stop (no result stored).
call_task "$PROXY" "$TOK" sleep '{"seconds":30,"steps":30}'
CID=$TASK_ID
check "long task starts running" wait_for 10 bash -c \
    "[ \"\$(psql -X -At -h 127.0.0.1 -p $((BASE + 40)) -U taskwire -d taskwire -c \"SELECT status FROM tasks WHERE id = '$CID'\")\" = running ]"
rpc "$FRONTEND_A" "$TOK" tasks/cancel "{\"taskId\":\"$CID\"}" "$CID"
check "tasks/cancel answers an empty ack" [ "$STATUS $(jbody '.result | keys | join(",")')" = "200 _meta,resultType" ]
check "cancelled task reads cancelled through B" status_is "$FRONTEND_B" "$TOK" "$CID" cancelled
stopped() { [ "$(log_count 'tool stopped: task cancelled or lease lost' "$CID")" = 1 ]; }
check "worker logs that the tool stopped (5 s)" wait_for 5 stopped
# After that line the attempt is over: nothing it could still write has been kept.
check "cancelled task never gets a result" \
    [ "$(psql_q "SELECT status || ' ' || (result IS NULL) || ' ' || (error IS NULL) FROM tasks WHERE id = '$CID'")" = "cancelled true true" ]
check "the stopped attempt offered no result" \
    [ "$(log_count 'task finished' "$CID")/$(log_count 'result discarded: task cancelled or lease lost' "$CID")" = 0/0 ]
rpc "$FRONTEND_B" "$TOK" tasks/cancel "{\"taskId\":\"$CID\"}" "$CID"
check "cancel is idempotent on a terminal task: 200, empty ack" \
    [ "$STATUS $(jbody '.result.resultType')" = "200 complete" ]
check "... and the task stays cancelled" status_is "$FRONTEND_A" "$TOK" "$CID" cancelled
finish
