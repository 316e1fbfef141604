#!/usr/bin/env bash
# Bad input gets a precise error and changes nothing; the wire follows
# MCP 2026-07-28 for the envelope, headers and methods.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
TOK=$(token bad-input)
BEFORE=$(psql_q "SELECT count(*) FROM tasks WHERE owner = 'bad-input'")

raw "$PROXY" "$TOK" tools/list "" '{"jsonrpc":"2.0","id":1,'
check "malformed JSON: 400 -32700" [ "$STATUS $(jbody .error.code)" = "400 -32700" ]
raw "$PROXY" "$TOK" tools/list "" '[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]'
check "batch: 400 -32600" [ "$STATUS $(jbody .error.code)" = "400 -32600" ]
raw "$PROXY" "$TOK" tools/list "" '{"jsonrpc":"2.0","id":7,"method":"tools/list"}'
check "missing _meta: 400 -32602 with the id" [ "$STATUS $(jbody .error.code) $(jbody .id)" = "400 -32602 7" ]
raw "$PROXY" "$TOK" tools/list "" '{"jsonrpc":"2.0","method":"notifications/whatever"}'
check "notification: 202" [ "$STATUS" = 202 ]
rpc "$PROXY" "$TOK" tools/call '{"name":"sleep","arguments":{"seconds":"ten"}}' sleep
check "wrong argument type: -32602" [ "$STATUS $(jbody .error.code)" = "200 -32602" ]
check "wrong argument type: the message names /seconds and the keyword" \
    [ "$(jbody .error.message)" = "Invalid arguments: /seconds: must be of type number, not a string (type)" ]
rpc "$PROXY" "$TOK" tools/call '{"name":"sleep","arguments":{"seconds":1,"rm":"-rf"}}' sleep
check "unknown argument: -32602" [ "$(jbody .error.code)" = -32602 ]
rpc "$PROXY" "$TOK" tools/call '{"name":"nope","arguments":{}}' nope
check "unknown tool: -32602" [ "$(jbody .error.code)" = -32602 ]
rpc "$PROXY" "$TOK" tools/call '{"name":"sleep","arguments":[1]}' sleep
check "arguments not an object: -32602" [ "$(jbody .error.code)" = -32602 ]
rpc "$PROXY" "$TOK" tools/call '{"name":"sleep","arguments":{"seconds":1}}' other
check "Mcp-Name mismatch: 400 -32020" [ "$STATUS $(jbody .error.code)" = "400 -32020" ]
rpc "$PROXY" "$TOK" tools/call '{"name":"sleep","arguments":{"seconds":1}}' ""
check "Mcp-Name missing on tools/call: 400 -32020" [ "$STATUS $(jbody .error.code)" = "400 -32020" ]
BIG=$(head -c 1100000 /dev/zero | tr '\0' 'a')
raw "$PROXY" "$TOK" tools/list "" "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\",\"params\":{\"x\":\"$BIG\"}}"
check "oversized body: 413" [ "$STATUS" = 413 ]
for m in initialize ping logging/setLevel tasks/result tasks/list resources/subscribe no/such; do
    rpc "$PROXY" "$TOK" "$m" '{}'
    check "$m: 404 -32601" [ "$STATUS $(jbody .error.code)" = "404 -32601" ]
done
PROTOCOL_HEADER=v999 raw "$PROXY" "$TOK" tools/list "" '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"v999","io.modelcontextprotocol/clientCapabilities":{}}}}'
check "unsupported version: 400 -32022 with supported" \
    [ "$STATUS $(jbody .error.code) $(jbody '.error.data.supported[0]')" = "400 -32022 2026-07-28" ]
# The CLI declares the extension; without it a task-required tool is refused.
RPC_ID=100
body=$(jq -cn '{jsonrpc:"2.0",id:1,method:"tools/call",params:{name:"sleep",arguments:{seconds:1},_meta:{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}')
raw "$PROXY" "$TOK" tools/call sleep "$body"
check "task tool without the extension: 400 -32021 with requiredCapabilities" \
    [ "$STATUS $(jbody .error.code) $(jbody '.error.data.requiredCapabilities.extensions | keys[0]')" = "400 -32021 io.modelcontextprotocol/tasks" ]
curl -s -o /dev/null -w '%{http_code}' "$PROXY" >"$TMP/get"
check "GET on the endpoint: 405" [ "$(cat "$TMP/get")" = 405 ]
check "no task was created by any of it" [ "$(psql_q "SELECT count(*) FROM tasks WHERE owner = 'bad-input'")" = "$BEFORE" ]
rpc "$PROXY" "$TOK" server/discover '{}'
check "server/discover lists the tasks extension" \
    [ "$(jbody '.result.capabilities.extensions | has("io.modelcontextprotocol/tasks")')" = true ]
check "server/discover has ttlMs and cacheScope" [ "$(jbody '.result | "\(.ttlMs|type) \(.cacheScope)"')" = "number public" ]
rpc "$PROXY" "$TOK" tools/list '{}'
check "tools/list serves sleep with its schema" [ "$(jbody '[.result.tools[] | select(.name == "sleep") | .inputSchema.type] | .[0]')" = object ]
finish
