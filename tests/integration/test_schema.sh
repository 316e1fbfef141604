#!/usr/bin/env bash
# Arguments and answers are validated before anything is stored: JSON Schema 2020-12
# arguments (the json_schema_2020_12_tool fixture: $ref, allOf/anyOf, if/then/else,
# additionalProperties) are refused with -32602 and the instance path, a 2,000-deep array
# is refused cleanly whatever the schema says, tasks/update takes only result objects (as
# an MRTR retry does), and U+0000 is never a parse error: -32602 with its place.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
TOK=$(token schema-it)
CAPS='{"elicitation":{},"extensions":{"io.modelcontextprotocol/tasks":{}}}'
rows() { psql_q "SELECT count(*) FROM tasks WHERE owner = 'schema-it'"; }
TOOL=json_schema_2020_12_tool

# tool_call ARGS_JSON: tools/call of the fixture with ARGS_JSON as its arguments.
tool_call() { rpc "$PROXY" "$TOK" tools/call "$(jq -cn --argjson a "$1" --arg n "$TOOL" '{name:$n,arguments:$a}')" "$TOOL"; }
# refused_with MESSAGE: the last reply is 200 -32602 with exactly that message.
refused_with() { [ "$STATUS $(jbody .error.code) $(jbody .error.message)" = "200 -32602 $1" ]; }

# ---- JSON Schema 2020-12 arguments ----
tool_call '{"contactMethod":"phone","phone":"+1 555","address":{"street":"Main","city":"X"}}'
check "valid arguments are answered" [ "$STATUS $(jbody '.result | has("content")')" = "200 true" ]
ROWS=$(rows) # (a synchronous call is a task row too; none of the refused ones below is)
tool_call '{"contactMethod":"phone","email":"a@b.c"}'
check "if/then: phone contact without a phone: -32602 at the root, keyword required" \
    refused_with 'Invalid arguments: (root): the property "phone" is required (required)'
tool_call '{"email":"a@b.c","address":{"street":5}}'
check "\$ref: a street that is not a string: -32602 at /address/street" \
    refused_with 'Invalid arguments: /address/street: must be of type string, not an integer (type)'
tool_call '{"name":"x"}'
check "allOf/anyOf: neither phone nor email: -32602 (anyOf)" \
    refused_with 'Invalid arguments: (root): must match at least one of the anyOf schemas (anyOf)'
tool_call '{"email":"a@b.c","zip":"1"}'
check "additionalProperties: an unknown member: -32602 at /zip" \
    refused_with 'Invalid arguments: /zip: is not an accepted property (additionalProperties)'
tool_call '{"contactMethod":"fax","email":"a@b.c"}'
check "enum: -32602 at /contactMethod" \
    refused_with 'Invalid arguments: /contactMethod: must be one of the 2 allowed values (enum)'

# ---- a 2,000-deep array ----
# (built with printf: jq 1.6 parses no deeper than 256 levels)
DEEP=$(printf '%.0s[' $(seq 2000))$(printf '%.0s]' $(seq 2000))
raw "$PROXY" "$TOK" tools/call echo "{\"jsonrpc\":\"2.0\",\"id\":40,\"method\":\"tools/call\",\"params\":{\"name\":\"echo\",\"arguments\":{\"text\":$DEEP},\"_meta\":$(meta)}}"
check "a 2,000-deep array: 200 -32602, limit" \
    [ "$STATUS $(jbody .error.code)" = "200 -32602" ]
check "... the message names the depth limit" \
    contains "$(jbody .error.message)" "nested deeper than 64 levels (limit)"
check "... and starts at /text" contains "$(jbody .error.message)" "Invalid arguments: /text/0/0"

# ---- U+0000 ----
body='{"jsonrpc":"2.0","id":41,"method":"tools/call","params":{"name":"echo","arguments":{"text":"a\u0000b"},"_meta":'"$(meta)"'}}'
raw "$PROXY" "$TOK" tools/call echo "$body"
check "U+0000 in an argument: 200 -32602 with the id, not -32700" \
    [ "$STATUS $(jbody .error.code) $(jbody .id)" = "200 -32602 41" ]
check "... naming the place" refused_with \
    'Invalid params: /params/arguments/text: strings may not contain U+0000'
body='{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"echo","arguments":{"te\u0000xt":"a"},"_meta":'"$(meta)"'}}'
raw "$PROXY" "$TOK" tools/call echo "$body"
check "U+0000 in an argument's name: 200 -32602 with the id" \
    [ "$STATUS $(jbody .error.code) $(jbody .id)" = "200 -32602 42" ]
body='{"jsonrpc":"2.0","id":43,"method":"tools/call","params":{"name":"echo\u0000x","arguments":{"text":"a"},"_meta":'"$(meta)"'}}'
raw "$PROXY" "$TOK" tools/call echo "$body"
check "U+0000 in the tool name: 200 -32602 (the name is not cut at the NUL)" \
    refused_with 'Invalid params: /params/name: strings may not contain U+0000'
check "nothing above created a task" [ "$(rows)" = "$ROWS" ]

# ---- tasks/update answers ----
body=$(jq -cn --argjson m "$(meta "$CAPS")" \
    '{jsonrpc:"2.0",id:50,method:"tools/call",params:{name:"confirm_delete",arguments:{filename:"a.txt"},_meta:$m}}')
raw "$PROXY" "$TOK" tools/call confirm_delete "$body"
ID=$(jbody .result.taskId)
check "confirm_delete runs as a task" [ -n "$ID" ]
waiting() { [ "$(psql_q "SELECT status FROM tasks WHERE id = '$ID'")" = input_required ]; }
check "it waits for input (10 s)" wait_for 10 waiting
row() { psql_q "SELECT status || ' ' || coalesce(input_responses::text, '-') || ' ' || updated_at FROM tasks WHERE id = '$ID'"; }
BEFORE=$(row)
for answers in '{"confirm":"yes"}' '{"confirm":{"action":"accept"},"other":[1]}' '"yes"' '{"confirm":{"action":"accept","content":{"note":"a\u0000b"}}}'; do
    body=$(jq -cn --argjson m "$(meta "$CAPS")" --arg id "$ID" --argjson r "$answers" \
        '{jsonrpc:"2.0",id:51,method:"tasks/update",params:{taskId:$id,inputResponses:$r,_meta:$m}}')
    raw "$PROXY" "$TOK" tasks/update "$ID" "$body"
    check "tasks/update with $answers: 200 -32602" [ "$STATUS $(jbody .error.code)" = "200 -32602" ]
done
check "... and the row is untouched (status, answers, updated_at)" [ "$(row)" = "$BEFORE" ]
body=$(jq -cn --argjson m "$(meta "$CAPS")" --arg id "$ID" \
    '{jsonrpc:"2.0",id:52,method:"tasks/update",params:{taskId:$id,inputResponses:{confirm:{action:"decline"}},_meta:$m}}')
raw "$PROXY" "$TOK" tasks/update "$ID" "$body"
check "a result object is taken" [ "$STATUS $(jbody .result.resultType)" = "200 complete" ]
check "and the task completes (10 s)" wait_for 10 status_is "$PROXY" "$TOK" "$ID" completed
finish
