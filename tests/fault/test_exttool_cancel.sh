#!/usr/bin/env bash
# Cancel during an external-process tool: the tool's process group is gone within its
# killGraceMs (SIGTERM, then SIGKILL) and no result is stored.  Two tools: deploy/local/tools'
# countdown (stops at once on SIGTERM) and tests/fault/tools/stubborn.sh (ignores SIGTERM, as
# does its child: only the SIGKILL after killGraceMs ends them).  Then a worker is sent
# SIGTERM while the stubborn tool runs: its process group is gone when the worker exits and
# the task is handed to the other worker without counting an attempt.  Needs the countdown
# tool of deploy/local/tools/manifest.json: without it the test fails (it never skips).
# SPDX-License-Identifier: Apache-2.0
HERE=$(cd "$(dirname "$0")" && pwd)
SRC_MANIFEST=$HERE/../../deploy/local/tools/manifest.json
if [ ! -f "$SRC_MANIFEST" ] || ! jq -e '.tools[] | select(.name == "countdown")' "$SRC_MANIFEST" >/dev/null 2>&1; then
    echo "FAIL - no countdown tool in $SRC_MANIFEST (the example external tools are gone?)"
    echo "0 passed, 1 failed"
    exit 1
fi
. "$HERE/lib.sh"
STUBBORN_GRACE_MS=1500
SLACK_MS=1000
# A manifest of our own: countdown as the repository declares it (argv made absolute), plus
# the stubborn tool with a short killGraceMs.
MANIFEST=$TMP/manifest.json
jq --arg cd "$(cd "$(dirname "$SRC_MANIFEST")" && pwd)" --arg st "$HERE/tools/stubborn.sh" \
    --argjson grace "$STUBBORN_GRACE_MS" '
    {tools: [(.tools[] | select(.name == "countdown") | .argv[0] = ($cd + "/" + .argv[0])),
             {name: "stubborn", description: "Ignores SIGTERM (fault test).",
              inputSchema: {type: "object", properties: {}, additionalProperties: false},
              taskPolicy: "required", argv: [$st], timeoutMs: 600000, killGraceMs: $grace}]}' \
    "$SRC_MANIFEST" >"$MANIFEST"
CD_GRACE_MS=$(jq '.tools[] | select(.name == "countdown") | .killGraceMs // 5000' "$MANIFEST")
export TASKWIRE_TOOLS_MANIFEST=$MANIFEST
export TASKWIRE_GRACE_MS=1000
fault_up 1 2
TOK=$(token fault-f)

# group_alive PGID: a live (not zombie) process is in process group PGID.
group_alive() {
    ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { f = 1 } END { exit !f }'
}
group_gone() { ! group_alive "$1"; }
group_size() { ps -e -o pgid=,stat= | awk -v g="$1" '$1 == g && $2 !~ /^Z/' | wc -l; }

# tool_child ID: the pid of the tool process the worker running task ID started (the
# leader of its own process group), or fail.
tool_child() {
    local w pid c
    w=$(psql_q "SELECT worker_id FROM tasks WHERE id = '$1' AND status = 'running'")
    [ -n "$w" ] || return 1
    pid=$(stack_pid "$w") || return 1
    for c in $(ps -o pid= --ppid "$pid"); do
        [ "$(ps -o pgid= -p "$c" | tr -d ' ')" = "$c" ] && {
            echo "$c"
            return 0
        }
    done
    return 1
}

# run_and_cancel TOOL ARGS GRACE_MS MIN_MS: start TOOL, wait for its process group, cancel,
# and check the group is gone within GRACE_MS + slack (and not before MIN_MS).
run_and_cancel() {
    local tool=$1 tool_args=$2 grace=$3 min=$4
    call_task "$PROXY" "$TOK" "$tool" "$tool_args"
    local id=$TASK_ID
    check "$tool: task created" [ "$STATUS ${id:+id}" = "200 id" ]
    has_child() { CHILD=$(tool_child "$id"); }
    if ! check "$tool: its process is running" wait_for 15 has_child; then
        echo "# row: $(row "$id"); $(psql_q "SELECT coalesce(error::text, result::text, '') FROM tasks WHERE id = '$id'")"
        return
    fi
    progressed() { [ -n "$(psql_q "SELECT status_message FROM tasks WHERE id = '$id'")" ]; }
    wait_for 10 progressed
    echo "# $tool runs as pid $CHILD (process group of $(group_size "$CHILD"))"
    rpc "$PROXY" "$TOK" tasks/cancel "{\"taskId\":\"$id\"}" "$id"
    check "$tool: cancel acknowledged" [ "$STATUS" = 200 ]
    check "$tool: process group gone within killGraceMs ${grace} + ${SLACK_MS} ms" \
        wait_ms $((grace + SLACK_MS)) group_gone "$CHILD"
    echo "# $tool: process group gone $WAITED_MS ms after the cancel"
    if [ "$min" -gt 0 ]; then
        check "$tool: ... not before the grace (it ignores SIGTERM): >= $min ms" [ "$WAITED_MS" -ge "$min" ]
    fi
    check "$tool: task reads cancelled" status_is "$PROXY" "$TOK" "$id" cancelled
    # After the "tool stopped" line the attempt is over: what it left is final.
    stopped() { [ "$(log_count 'tool stopped: task cancelled or lease lost' "$id")" = 1 ]; }
    check "$tool: the worker logged that the tool stopped (5 s)" wait_for 5 stopped
    check "$tool: no result stored" [ "$(row "$id" | awk '{print $1, $4}')" = "cancelled true" ]
    check "$tool: no result offered ('task finished' or 'result discarded')" \
        [ "$(log_count 'task finished' "$id")/$(log_count 'result discarded: task cancelled or lease lost' "$id")" = 0/0 ]
}

run_and_cancel countdown '{"seconds":120}' "$CD_GRACE_MS" 0
run_and_cancel stubborn '{}' "$STUBBORN_GRACE_MS" $((STUBBORN_GRACE_MS - 100))

# Worker shutdown during a tool that ignores SIGTERM.
call_task "$PROXY" "$TOK" stubborn '{}'
SID=$TASK_ID
has_child() { CHILD=$(tool_child "$SID"); }
if check "shutdown: stubborn tool running" wait_for 15 has_child; then
    W=$(psql_q "SELECT worker_id FROM tasks WHERE id = '$SID'")
    WPID=$(stack_pid "$W")
    case $W in worker-1) OTHER=worker-2 ;; *) OTHER=worker-1 ;; esac
    kill -TERM "$WPID"
    LIMIT=$((TASKWIRE_GRACE_MS + STUBBORN_GRACE_MS + SLACK_MS))
    check "shutdown: $W exits within grace + killGraceMs + slack ($LIMIT ms)" wait_ms "$LIMIT" pid_dead "$WPID"
    echo "# $W exited $WAITED_MS ms after SIGTERM"
    check "shutdown: the tool's process group is gone" group_gone "$CHILD"
    check "shutdown: the task was released" [ "$(log_count 'task released for another worker (shutdown)' "$SID")" = 1 ]
    on_other() { [ "$(row "$SID" | cut -d' ' -f1-3)" = "running 1 $OTHER" ]; }
    check "shutdown: the task runs again on $OTHER, still attempt 1" wait_for 10 on_other
    has_child2() { CHILD2=$(tool_child "$SID"); }
    if check "shutdown: the tool runs again on $OTHER (10 s)" wait_for 10 has_child2; then
        rpc "$PROXY" "$TOK" tasks/cancel "{\"taskId\":\"$SID\"}" "$SID"
        check "shutdown: after a cancel its new process group is gone too" \
            wait_ms $((STUBBORN_GRACE_MS + SLACK_MS)) group_gone "$CHILD2"
    fi
fi

# And a countdown that is left alone still completes (the tools work at all).
call_task "$PROXY" "$TOK" countdown '{"seconds":1}'
check "countdown 1 s completes" wait_for 15 status_is "$PROXY" "$TOK" "$TASK_ID" completed
rpc "$PROXY" "$TOK" tasks/get "{\"taskId\":\"$TASK_ID\"}" "$TASK_ID"
check "... with its result" [ "$(jbody '.result.result.content[0].text')" = "Counted down 1 seconds." ]
fault_finish
