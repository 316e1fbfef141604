#!/usr/bin/env bash
# Redis carries hints, never decisions: a cancel event published by anyone who reaches Redis
# (here by hand, for a task that was not cancelled) makes the worker read the task, find it
# still its own and running, and keep the tool going; the task completes.  A real
# tasks/cancel still stops its tool at once.  Redis itself wants a password: without one, a
# publisher is refused.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
TOK=$(token redis-hint)
REDIS=(env REDISCLI_AUTH="$(cat "${TASKWIRE_STACK_DIR:?}/redis-password")" redis-cli -h 127.0.0.1 -p $((BASE + 41)))
worker_metric() { # NAME: the sum over both workers of metric NAME
    local total=0 w v
    for w in 1 2; do
        v=$(curl -s -m 2 "http://127.0.0.1:$((BASE + 30 + w))/metrics" |
            awk -v n="$1" '$1 == n { print $2 }')
        total=$((total + ${v:-0}))
    done
    echo "$total"
}
KEPT='taskwire_cancel_events_total{verdict="kept"}'
STOPPED='taskwire_cancel_events_total{verdict="stopped"}'

call_task "$PROXY" "$TOK" sleep '{"seconds":3,"steps":6}'
ID=$TASK_ID
check "a 3 s task is created" [ -n "$ID" ]
running() { [ "$(psql_q "SELECT status FROM tasks WHERE id = '$ID'")" = running ]; }
check "it runs on a worker" wait_for 10 running
refused() { redis-cli -h 127.0.0.1 -p $((BASE + 41)) PUBLISH taskwire:task-events "cancel $ID" 2>&1 | grep -q NOAUTH; }
check "Redis refuses a publisher without the password (NOAUTH)" refused
KEPT0=$(worker_metric "$KEPT")
check "a forged cancel event is published on Redis" "${REDIS[@]}" PUBLISH taskwire:task-events "cancel $ID"
kept() { [ "$(worker_metric "$KEPT")" -gt "$KEPT0" ]; }
check "the worker re-read the task and kept it (cancel_events{verdict=kept})" wait_for 5 kept
check "the forged event stopped nothing: the task completes" \
    wait_for 15 status_is "$FRONTEND_A" "$TOK" "$ID" completed
check "at its first attempt" [ "$(psql_q "SELECT attempt FROM tasks WHERE id = '$ID'")" = 1 ]

# A real cancel: the event's re-read finds the task cancelled and stops the tool.
call_task "$PROXY" "$TOK" sleep '{"seconds":30,"steps":30}'
ID2=$TASK_ID
running2() { [ "$(psql_q "SELECT status FROM tasks WHERE id = '$ID2'")" = running ]; }
check "a 30 s task runs" wait_for 10 running2
STOPPED0=$(worker_metric "$STOPPED")
rpc "$FRONTEND_B" "$TOK" tasks/cancel "{\"taskId\":\"$ID2\"}" "$ID2"
check "tasks/cancel is acknowledged" [ "$STATUS" = 200 ]
stopped() { [ "$(worker_metric "$STOPPED")" -gt "$STOPPED0" ]; }
check "the worker's re-read found it cancelled and stopped the tool (5 s)" wait_for 5 stopped
check "the task reads cancelled" status_is "$FRONTEND_A" "$TOK" "$ID2" cancelled
finish
