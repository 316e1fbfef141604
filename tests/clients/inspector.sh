#!/usr/bin/env bash
# tests/clients/inspector.sh - the MCP Inspector CLI (@modelcontextprotocol/inspector 2.12)
# against a taskwire stack, as a user runs it: --cli URL --transport http --header
# "Authorization: Bearer ...".
#
#   inspector.sh NODE URL TOKEN      (run by tests/clients/run)
#
# Checks, each by the CLI's exit status (0) and its output: tools/list (the default, legacy
# era: 2025-11-25 tools with execution.taskSupport), tools/call echo, tools/call of the
# task-required tool sleep to completion (task augmentation, tasks/get polling,
# tasks/result with related-task), with --protocol-era auto the modern era (it probes
# server/discover first): tools/list without execution and results with resultType, and
# with --app-info the task view App a task tool names (ui://taskwire/task, its CSP).
# HOME is a scratch folder (the Inspector keeps its stores there).  Prints one line per
# check and "N passed, M failed"; exits 1 on any failure.
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail
NODE=${1:?node} URL=${2:?url} TOKEN=${3:?token}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
INSP=$HERE/node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
export HOME=$TMP/home
mkdir -p "$HOME"
PASSED=0 FAILED=0
check() { # check WHAT COMMAND...: one condition
    local what=$1
    shift
    if "$@"; then
        PASSED=$((PASSED + 1))
        echo "ok   - $what"
    else
        FAILED=$((FAILED + 1))
        echo "FAIL - $what"
        echo "       output: $(head -c 600 "$TMP/out" 2>/dev/null)"
        echo "       stderr: $(tail -c 600 "$TMP/err" 2>/dev/null)"
    fi
}
[ -f "$INSP" ] || { echo "FAIL - the Inspector is not installed ($INSP)"; exit 1; }

# cli ARGS...: run the Inspector CLI against the stack; output in $TMP/out, status in RC.
cli() {
    "$NODE" "$INSP" --cli "$URL" --transport http --header "Authorization: Bearer $TOKEN" \
        "$@" >"$TMP/out" 2>"$TMP/err"
    RC=$?
}
jq_ok() { jq -e "$1" "$TMP/out" >/dev/null 2>&1; }

cli --method tools/list --format json
check "tools/list exits 0" [ "$RC" = 0 ]
check "tools/list (legacy era): echo optional, sleep required" \
    jq_ok '[.result.tools[] | select(.name == "echo" and .execution.taskSupport == "optional"),
            select(.name == "sleep" and .execution.taskSupport == "required")] | length == 2'

cli --method tools/call --tool-name echo --tool-arg text=hello-inspector
check "tools/call echo exits 0" [ "$RC" = 0 ]
check "tools/call echo returns the text" jq_ok '.content[0].text == "hello-inspector" and .isError == false'

cli --method tools/call --tool-name sleep --tool-args-json '{"seconds":1,"steps":2}'
check "tools/call sleep (task-required) exits 0" [ "$RC" = 0 ]
check "tools/call sleep runs as a task to its result" \
    jq_ok '.content[0].text == "Slept 1 s in 2 steps." and
           (._meta["io.modelcontextprotocol/related-task"].taskId | type == "string")'

cli --protocol-era auto --method tools/list --format json
check "--protocol-era auto: tools/list exits 0" [ "$RC" = 0 ]
check "--protocol-era auto picks the modern era (no execution field, 2026 tools)" \
    jq_ok '(.result.tools | length > 0) and ([.result.tools[] | select(has("execution"))] | length == 0)'
cli --protocol-era auto --method tools/call --tool-name sleep --tool-args-json '{"seconds":1,"steps":2}'
check "--protocol-era auto: tools/call sleep exits 0" [ "$RC" = 0 ]
check "--protocol-era auto: the result is a 2026 one (resultType complete)" \
    jq_ok '.resultType == "complete" and .content[0].text == "Slept 1 s in 2 steps."'

# The task view App, as the Inspector reads it (--app-info: the tool's _meta.ui.resourceUri,
# then resources/read of it; exit 2 for a tool without an App).
cli --method tools/call --tool-name sleep --app-info --format json
check "--app-info sleep exits 0" [ "$RC" = 0 ]
check "--app-info sleep: ui://taskwire/task, text/html;profile=mcp-app, a CSP of no domain" \
    jq_ok '.appInfo.hasApp and .appInfo.resourceUri == "ui://taskwire/task" and
           .appInfo.resourceMimeType == "text/html;profile=mcp-app" and
           ([.appInfo.csp[] | length] | add) == 0'
cli --method tools/call --tool-name greet --app-info --format json
check "--app-info greet (never a task): exit 2, no App" [ "$RC" = 2 ]

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
