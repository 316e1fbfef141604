# lib.sh - helpers for integration tests against a running local stack.
#
# Sourced by tests/integration/test_*.sh.  The stack (deploy/local/stack) is
# started by the ctest fixture; TASKWIRE_STACK_DIR and TASKWIRE_STACK_PORT_BASE
# say which one.  Every wait has a deadline; every check counts towards the
# closing "N passed, M failed" line.
# SPDX-License-Identifier: Apache-2.0
# The variables set here (PROXY, STATUS, TASK_ID, ...) are for the scripts that source it.
# shellcheck shell=bash disable=SC2034
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STACK="$ROOT/deploy/local/stack"
BASE=${TASKWIRE_STACK_PORT_BASE:?TASKWIRE_STACK_PORT_BASE must be set}
PROXY="http://127.0.0.1:$BASE/mcp"
FRONTEND_A="http://127.0.0.1:$((BASE + 1))/mcp"
FRONTEND_B="http://127.0.0.1:$((BASE + 2))/mcp"
LOGS=${TASKWIRE_STACK_DIR:-}/logs # the stack's process logs
PASSED=0
FAILED=0
RPC_ID=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

pass() { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }

# check DESCRIPTION COMMAND...: run COMMAND once; a pass when it succeeds, a failure
# otherwise.  Returns the verdict (0 pass, 1 fail), so `if check ...; then` works.  One
# check is one condition: `check A && B` or `check A | grep` would leave B uncounted, so
# several conditions go into one command (a function, `all_of`, or `bash -c`).
# tests/lint_checks refuses such chains.  A command that cannot run (exit 126/127) or a
# malformed test expression (`[` exit 2) fails loudly as BROKEN.
check() {
    local what=$1 rc
    shift
    if [ $# -eq 0 ]; then
        fail "$what (BROKEN: check without a command)"
        return 1
    fi
    "$@"
    rc=$?
    if [ "$rc" = 0 ]; then
        pass "$what"
        return 0
    fi
    case "$rc:$1" in
    126:* | 127:*) fail "$what (BROKEN: '$1' could not run, exit $rc)" ;;
    2:\[ | 2:test) fail "$what (BROKEN: malformed test expression: ${*:2})" ;;
    *) fail "$what" ;;
    esac
    return 1
}

# all_of 'CONDITION' ...: true when every CONDITION (a shell command line, evaluated in
# order) is true; for a check made of several conditions.
all_of() {
    local c
    for c in "$@"; do
        eval "$c" || return 1
    done
}

# contains STRING PART: STRING contains PART (a fixed string).
contains() { [[ "$1" == *"$2"* ]]; }

# between N LOW HIGH: the integer N is in [LOW, HIGH].
between() { [ "$1" -ge "$2" ] 2>/dev/null && [ "$1" -le "$3" ]; }

# finish: print the closing line and exit non-zero on any failure (or when no check ran).
finish() {
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
    exit $?
}

token() { "$STACK" token "${1:-dev}"; }

# meta [CAPS_JSON]: the _meta envelope of a 2026-07-28 request.
# shellcheck disable=SC2120 # most callers want the default capabilities
meta() {
    local caps=${1:-'{"extensions":{"io.modelcontextprotocol/tasks":{}}}'}
    printf '{"io.modelcontextprotocol/protocolVersion":"2026-07-28",'
    printf '"io.modelcontextprotocol/clientCapabilities":%s,' "$caps"
    printf '"io.modelcontextprotocol/clientInfo":{"name":"taskwire-it","version":"1"}}'
}

# rpc URL TOKEN METHOD PARAMS_JSON [NAME]: POST one request with the routing
# headers; sets STATUS (HTTP) and BODY (response text).  PARAMS_JSON gets the
# _meta envelope added.  TOKEN may be "" (no Authorization header).
rpc() {
    local url=$1 tok=$2 method=$3 params=$4 name=${5:-}
    RPC_ID=$((RPC_ID + 1))
    local body
    body=$(jq -cn --argjson p "$params" --argjson m "$(meta)" --arg method "$method" \
        --argjson id "$RPC_ID" '{jsonrpc:"2.0",id:$id,method:$method,params:($p + {_meta:$m})}')
    raw "$url" "$tok" "$method" "$name" "$body"
}

# raw URL TOKEN METHOD NAME BODY [CURL_ARGS...]: POST BODY as is
# (PROTOCOL_HEADER overrides the MCP-Protocol-Version header).
raw() {
    local url=$1 tok=$2 method=$3 name=$4 body=$5
    shift 5
    printf '%s' "$body" >"$TMP/request"
    local args=(-sS -o "$TMP/body" -w '%{http_code}' -X POST "$url"
        -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream'
        -H "MCP-Protocol-Version: ${PROTOCOL_HEADER:-2026-07-28}" -H "Mcp-Method: $method"
        --data-binary @"$TMP/request")
    [ -n "$name" ] && args+=(-H "Mcp-Name: $name")
    [ -n "$tok" ] && args+=(-H "Authorization: Bearer $tok")
    STATUS=$(curl "${args[@]}" "$@" 2>"$TMP/curl.err") || STATUS=000
    BODY=$(cat "$TMP/body" 2>/dev/null || true)
}

# rpc_with URL TOKEN METHOD PARAMS_JSON NAME CURL_ARGS...: rpc with extra curl arguments
# (e.g. -D FILE to keep the response headers, -m SECONDS).
rpc_with() {
    local url=$1 tok=$2 method=$3 params=$4 name=$5
    shift 5
    RPC_ID=$((RPC_ID + 1))
    local body
    body=$(jq -cn --argjson p "$params" --argjson m "$(meta)" --arg method "$method" \
        --argjson id "$RPC_ID" '{jsonrpc:"2.0",id:$id,method:$method,params:($p + {_meta:$m})}')
    raw "$url" "$tok" "$method" "$name" "$body" "$@"
}

# jbody FILTER: run jq FILTER on the last BODY.
jbody() { jq -r "$1" <<<"$BODY" 2>/dev/null; }

# call_task URL TOKEN TOOL ARGS_JSON: tools/call with the tasks extension; sets TASK_ID.
call_task() {
    rpc "$1" "$2" tools/call "$(jq -cn --arg n "$3" --argjson a "$4" '{name:$n,arguments:$a}')" "$3"
    TASK_ID=$(jbody '.result.taskId // empty')
}

# task_status URL TOKEN ID: prints the MCP status of a task (or the error code).
task_status() {
    rpc "$1" "$2" tasks/get "$(jq -cn --arg t "$3" '{taskId:$t}')" "$3"
    jbody '.result.status // ("error " + (.error.code|tostring))'
}

# wait_for SECONDS COMMAND...: retry every 0.1 s until COMMAND succeeds or time runs out.
wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    while ! "$@"; do
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

# status_is URL TOKEN ID STATUS: true when the task has that MCP status.
status_is() { [ "$(task_status "$1" "$2" "$3")" = "$4" ]; }

# psql_q SQL: run SQL on the stack's database, print unaligned rows.
psql_q() {
    psql -X -At -h 127.0.0.1 -p $((BASE + 40)) -U taskwire -d taskwire -c "$1"
}

# log_count MSG ID: how many worker log lines of the stack say MSG about task ID.
log_count() {
    cat "$LOGS"/worker-*.log 2>/dev/null | grep -F "\"msg\":\"$1\"" | grep -cF "\"task_id\":\"$2\""
}
