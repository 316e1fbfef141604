#!/usr/bin/env bash
# The task view App (MCP Apps, io.modelcontextprotocol/ui) on the running stack (JWT auth,
# fixtures on), in both eras and across both frontends: the extension advertised by
# server/discover and legacy initialize; tools/list naming ui://taskwire/task on every task
# tool (never on a synchronous one) and the App's two tools visible to the App only;
# resources/list and resources/read of the App (text/html;profile=mcp-app, a CSP of its own
# and a _meta.ui.csp naming no domain, public); taskwire_task_status and
# taskwire_task_cancel answered at once, never as tasks, owner-checked exactly like
# tasks/get (another principal's task reads as an unknown one and is left alone); and
# results unchanged for a client that does not declare the extension.
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2016 # all_of/check take conditions as single-quoted strings, evaluated later
. "$(dirname "$0")/lib.sh"
ALICE=$(token app-alice)
MALLORY=$(token app-mallory)
UNKNOWN_ID=01a20000-0000-7000-8000-000000000000
APP=ui://taskwire/task
TASKS_UI='{"extensions":{"io.modelcontextprotocol/tasks":{},"io.modelcontextprotocol/ui":{"mimeTypes":["text/html;profile=mcp-app"]}}}'

# call URL TOKEN METHOD NAME PARAMS_JSON CAPS: like rpc, with explicit capabilities.
call() {
    local body
    RPC_ID=$((RPC_ID + 1))
    body=$(jq -cn --argjson p "$5" --argjson m "$(meta "$6")" --arg method "$3" \
        --argjson id "$RPC_ID" '{jsonrpc:"2.0",id:$id,method:$method,params:($p + {_meta:$m})}')
    raw "$1" "$2" "$3" "$4" "$body"
}
# app URL TOKEN TOOL TASK_ID [CAPS]: tools/call of an App tool on TASK_ID.
app() {
    call "$1" "$2" tools/call "$3" "$(jq -cn --arg n "$3" --arg t "$4" \
        '{name:$n,arguments:{taskId:$t}}')" "${5:-$TASKS_UI}"
}
# error_json: the last reply's error object, compact.
error_json() { jq -c .error <<<"$BODY"; }
# lpost URL TOKEN SESSION BODY: a 2025-11-25 message (no _meta claim); sets STATUS, BODY.
lpost() {
    local args=(-sS -o "$TMP/body" -D "$TMP/lh" -w '%{http_code}' -X POST "$1"
        -H 'Content-Type: application/json' -H 'Accept: application/json'
        -H 'MCP-Protocol-Version: 2025-11-25' -H "Authorization: Bearer $2" --data-binary "$4")
    [ -n "$3" ] && args+=(-H "Mcp-Session-Id: $3")
    STATUS=$(curl "${args[@]}" 2>"$TMP/curl.err") || STATUS=000
    BODY=$(cat "$TMP/body" 2>/dev/null || true)
}

# ---- advertised, listed ----
call "$PROXY" "$ALICE" server/discover "" '{}' '{}'
check "discover advertises io.modelcontextprotocol/ui (to a client that did not declare it)" \
    [ "$(jbody '.result.capabilities.extensions | has("io.modelcontextprotocol/ui")')" = true ]
rpc "$PROXY" "$ALICE" tools/list '{}'
check "tools/list: sleep and echo (task tools) name the App, nested and flat" \
    [ "$(jbody '[.result.tools[] | select(.name == "sleep" or .name == "echo") |
        [._meta.ui.resourceUri, ._meta["ui/resourceUri"]]] | flatten | unique | tojson')" = "[\"$APP\"]" ]
check "tools/list: greet (never a task) names no App" \
    [ "$(jbody '.result.tools[] | select(.name == "greet") | has("_meta")')" = false ]
check "tools/list: the App's tools are for the App only" \
    [ "$(jbody '[.result.tools[] | select(.name | startswith("taskwire_task_")) |
        ._meta.ui.visibility] | tojson')" = '[["app"],["app"]]' ]
rpc "$PROXY" "$ALICE" resources/list '{}'
check "resources/list: the App, text/html;profile=mcp-app, with its CSP meta" \
    [ "$(jq -r --arg u "$APP" '.result.resources[] | select(.uri == $u) |
        [.mimeType, (._meta.ui.csp | map_values(length) | tojson)] | join(" ")' <<<"$BODY")" = \
    'text/html;profile=mcp-app {"connectDomains":0,"resourceDomains":0,"frameDomains":0,"baseUriDomains":0}' ]

# ---- the App's document ----
rpc "$FRONTEND_A" "$ALICE" resources/read "{\"uri\":\"$APP\"}" "$APP"
check "resources/read of the App: one text/html;profile=mcp-app document, public" \
    [ "$(jbody '[.result.contents[0].mimeType, (.result.contents[0].text | startswith("<!DOCTYPE html>")),
        .result.cacheScope, (.result.contents | length)] | tojson')" = \
    '["text/html;profile=mcp-app",true,"public",1]' ]
check "... whose _meta.ui.csp names no domain" \
    [ "$(jbody '.result.contents[0]._meta.ui.csp | [.[] | length] | add')" = 0 ]
DOC=$(jbody '.result.contents[0].text')
check "... and whose own CSP allows its script and style by hash, and no connection" \
    all_of 'contains "$DOC" "script-src '"'"'sha256-"' 'contains "$DOC" "style-src '"'"'sha256-"' \
    'contains "$DOC" "connect-src '"'"'none'"'"'"' '! contains "$DOC" "unsafe-inline"'
rpc "$FRONTEND_B" "$ALICE" resources/read "{\"uri\":\"$APP\"}" "$APP"
check "... the same document from the other frontend" [ "$(jbody '.result.contents[0].text')" = "$DOC" ]

# ---- the App's tools: at once, never tasks, the owner's only ----
call_task "$PROXY" "$ALICE" sleep '{"seconds":30,"steps":30}'
ID=$TASK_ID
check "alice started a sleep task" [ -n "$ID" ]
has_progress() { [ "$(psql_q "SELECT progress > 0 FROM tasks WHERE id = '$ID'")" = t ]; }
check "it reports progress (10 s)" wait_for 10 has_progress
BEFORE=$(psql_q "SELECT count(*) FROM tasks WHERE owner = 'app-alice'")
app "$FRONTEND_A" "$ALICE" taskwire_task_status "$ID"
check "taskwire_task_status: the task as structuredContent, working, with progress and message" \
    [ "$(jbody '.result | [.resultType, .structuredContent.taskId, .structuredContent.status,
        (.structuredContent.progress.total), (.structuredContent.statusMessage | test("^step [0-9]+/30$")),
        (.content[0].text | contains("is working"))] | tojson')" = \
    "[\"complete\",\"$ID\",\"working\",30,true,true]" ]
check "... answered by the frontend: no task created" \
    [ "$(psql_q "SELECT count(*) FROM tasks WHERE owner = 'app-alice'")" = "$BEFORE" ]
rpc "$FRONTEND_B" "$MALLORY" tasks/get "{\"taskId\":\"$UNKNOWN_ID\"}" "$UNKNOWN_ID"
UNKNOWN=$(error_json)
check "tasks/get of an unknown id for mallory: -32602" [ "$(jbody .error.code)" = -32602 ]
app "$FRONTEND_B" "$MALLORY" taskwire_task_status "$ID"
check "mallory's taskwire_task_status of alice's task is exactly tasks/get's unknown-id error" \
    [ "$STATUS $(error_json)" = "200 $UNKNOWN" ]
app "$FRONTEND_A" "$MALLORY" taskwire_task_cancel "$ID"
check "mallory's taskwire_task_cancel of alice's task: the same error" \
    [ "$STATUS $(error_json)" = "200 $UNKNOWN" ]
check "... and alice's task still works" status_is "$PROXY" "$ALICE" "$ID" working
app "$FRONTEND_B" "$ALICE" taskwire_task_cancel "$ID"
check "alice's taskwire_task_cancel: cancelled by this call, shown cancelled" \
    [ "$(jbody '.result.structuredContent | [.status, .cancelled] | tojson')" = '["cancelled",true]' ]
check "tasks/get says cancelled" status_is "$PROXY" "$ALICE" "$ID" cancelled
check "PostgreSQL says cancelled" [ "$(psql_q "SELECT status FROM tasks WHERE id = '$ID'")" = cancelled ]
stopped() { [ "$(log_count "tool stopped: task cancelled or lease lost" "$ID")" -ge 1 ]; }
check "the worker running it stopped (10 s)" wait_for 10 stopped
app "$FRONTEND_A" "$ALICE" taskwire_task_cancel "$ID"
check "cancelling it again is no error: cancelled false" \
    [ "$(jbody '.result.structuredContent | [.status, .cancelled] | tojson')" = '["cancelled",false]' ]
app "$PROXY" "$ALICE" taskwire_task_status "not-a-task"
check "a malformed id reads as unknown too" [ "$STATUS $(error_json)" = "200 $UNKNOWN" ]

# ---- results unchanged for a client without the extension ----
call_task "$PROXY" "$ALICE" sleep '{"seconds":0.2,"steps":2}'
PLAIN=$TASK_ID
call "$PROXY" "$ALICE" tools/call sleep '{"name":"sleep","arguments":{"seconds":0.2,"steps":2}}' \
    "$TASKS_UI"
WITH_UI=$(jbody '.result.taskId // empty')
check "both sleep tasks complete (10 s)" wait_for 10 all_of \
    'status_is "$PROXY" "$ALICE" "$PLAIN" completed' 'status_is "$PROXY" "$ALICE" "$WITH_UI" completed'
rpc "$PROXY" "$ALICE" tasks/get "{\"taskId\":\"$PLAIN\"}" "$PLAIN"
R_PLAIN=$(jq -cS .result.result <<<"$BODY")
rpc "$PROXY" "$ALICE" tasks/get "{\"taskId\":\"$WITH_UI\"}" "$WITH_UI"
R_UI=$(jq -cS .result.result <<<"$BODY")
check "a task's result is the same whether or not the client declared the extension" \
    [ "$R_UI" = "$R_PLAIN" ]
check "... and the tool's own: text and structuredContent, nothing added" \
    [ "$R_PLAIN" = '{"content":[{"text":"Slept 0.2 s in 2 steps.","type":"text"}],"isError":false,"resultType":"complete","structuredContent":{"seconds":0.2,"steps":2}}' ]
call "$PROXY" "$ALICE" tools/call echo '{"name":"echo","arguments":{"text":"plain"}}' '{}'
check "echo for a client with no extension: the plain CallToolResult, nothing added" \
    [ "$(jq -c '.result | del(._meta) | keys' <<<"$BODY")" = '["content","isError","resultType"]' ]

# ---- the 2025-11-25 era ----
lpost "$FRONTEND_A" "$ALICE" "" '{"jsonrpc":"2.0","id":0,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{"extensions":{"io.modelcontextprotocol/ui":{"mimeTypes":["text/html;profile=mcp-app"]}}},"clientInfo":{"name":"it-app","version":"1"}}}'
SID=$(grep -i '^mcp-session-id:' "$TMP/lh" | cut -d' ' -f2- | tr -d '\r')
check "legacy initialize advertises io.modelcontextprotocol/ui" \
    [ "$(jbody '.result.capabilities.extensions | has("io.modelcontextprotocol/ui")')" = true ]
lpost "$FRONTEND_B" "$ALICE" "$SID" '{"jsonrpc":"2.0","id":1,"method":"tools/list"}'
check "legacy tools/list: the App's tools never run as tasks, sleep names the App" \
    [ "$(jbody '[(.result.tools[] | select(.name | startswith("taskwire_task_")) | .execution.taskSupport),
        (.result.tools[] | select(.name == "sleep") | ._meta.ui.resourceUri)] | tojson')" = \
    "[\"forbidden\",\"forbidden\",\"$APP\"]" ]
lpost "$FRONTEND_B" "$ALICE" "$SID" "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"tools/call\",\"params\":{\"name\":\"taskwire_task_status\",\"arguments\":{\"taskId\":\"$ID\"}}}"
check "legacy taskwire_task_status: the same task, without 2026-only fields" \
    [ "$(jbody '.result | [.structuredContent.status, has("resultType"), has("_meta")] | tojson')" = \
    '["cancelled",false,false]' ]
lpost "$FRONTEND_A" "$MALLORY" "" "{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"tools/call\",\"params\":{\"name\":\"taskwire_task_status\",\"arguments\":{\"taskId\":\"$ID\"}}}"
check "legacy, mallory: alice's task is unknown (-32602 in HTTP 200)" \
    [ "$STATUS $(jbody .error.code)" = "200 -32602" ]
lpost "$FRONTEND_A" "$ALICE" "$SID" "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"tools/call\",\"params\":{\"name\":\"taskwire_task_status\",\"arguments\":{\"taskId\":\"$ID\"},\"task\":{}}}"
check "legacy task augmentation of an App tool: -32601" [ "$(jbody .error.code)" = -32601 ]

finish
