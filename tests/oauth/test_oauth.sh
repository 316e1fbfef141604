#!/usr/bin/env bash
# The resource server against a real authorization server (tests/oauth/stack: oidc-provider
# over TLS with a test CA, its keys fetched by the frontends from its https jwks_uri):
# RFC 9728 metadata, RFC 6750 challenges with generic bodies, the RFC 9068 typ and the
# audience, one Authorization header, the scope model (tools/list filtered, 403 naming the
# scopes, the operator scope), and a key rotated at the provider picked up without a
# restart.  Every wait has a deadline.
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2016,SC2034 # all_of/check take conditions as single-quoted strings, evaluated later
. "$(dirname "$0")/../integration/lib.sh"
OAUTH=$ROOT/tests/oauth/stack
ISSUER=$("$OAUTH" issuer)
META_URL="http://127.0.0.1:$BASE/.well-known/oauth-protected-resource/mcp"
CHALLENGE_MISSING="Bearer scope=\"mcp:tools mcp:tasks\", resource_metadata=\"$META_URL\""
CHALLENGE_INVALID="Bearer error=\"invalid_token\", scope=\"mcp:tools mcp:tasks\", resource_metadata=\"$META_URL\""

# at CLIENT [SCOPE]: an access token from the provider (empty on failure).
at() { "$OAUTH" token "$@" 2>"$TMP/token.err"; }
# challenge: the WWW-Authenticate value of the last response whose headers went to $TMP/h.
challenge() {
    tr -d '\r' <"$TMP/h" 2>/dev/null | sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate: *//p' | head -n 1
}
# send URL TOKEN METHOD PARAMS [NAME]: rpc keeping the response headers in $TMP/h.
send() {
    rm -f "$TMP/h"
    rpc_with "$1" "$2" "$3" "$4" "${5:-}" -D "$TMP/h"
}
# failures REASON: taskwire_auth_failures_total{reason=REASON} summed over both frontends.
failures() {
    local n=0 i v
    for i in 1 2; do
        v=$(curl -s "http://127.0.0.1:$((BASE + 10 + i))/metrics" |
            sed -n "s/^taskwire_auth_failures_total{reason=\"$1\"} //p")
        n=$((n + ${v:-0}))
    done
    echo "$n"
}
# header_of TOKEN, claims_of TOKEN: the decoded JOSE header or claims of a JWT.
header_of() { b64url_json "${1%%.*}"; }
claims_of() {
    local rest=${1#*.}
    b64url_json "${rest%%.*}"
}
b64url_json() {
    local h
    h=$(tr '_-' '/+' <<<"$1")
    while [ $((${#h} % 4)) -ne 0 ]; do h+='='; done
    base64 -d <<<"$h" 2>/dev/null
}
tool_names() { jbody '[.result.tools[].name] | join(" ")'; }

# ---- RFC 9728 metadata ----
for path in /.well-known/oauth-protected-resource/mcp /.well-known/oauth-protected-resource; do
    # the TS client sends this protocol header and no token: both must not matter
    DOC=$(curl -s -D "$TMP/h" -H 'MCP-Protocol-Version: 2025-11-25' "http://127.0.0.1:$BASE$path")
    check "metadata at $path: 200 application/json" \
        grep -qiE '^(HTTP/1.1 200|content-type: application/json)' "$TMP/h"
    check "metadata at $path: resource, authorization server, basic scopes, header bearer" \
        [ "$(jq -c '[.resource, .authorization_servers, .scopes_supported,
                     .bearer_methods_supported]' <<<"$DOC")" = \
          "[\"$PROXY\",[\"$ISSUER\"],[\"mcp:tools\",\"mcp:tasks\"],[\"header\"]]" ]
done
check "a metadata path of another resource is 404" \
    [ "$(curl -s -o /dev/null -w '%{http_code}' \
        "http://127.0.0.1:$BASE/.well-known/oauth-protected-resource/other")" = 404 ]

# ---- 401: no token, bad tokens ----
send "$PROXY" "" tools/list '{}'
check "no token: 401, challenge with resource_metadata and scope, no error" \
    [ "$STATUS $(challenge)" = "401 $CHALLENGE_MISSING" ]
ALICE=$(at alice)
check "the provider issued alice an at+jwt token signed with k1" \
    [ "$(header_of "$ALICE" | jq -r '"\(.typ) \(.kid)"')" = "at+jwt k1" ]
send "$PROXY" "${ALICE%?????}AAAAA" tools/list '{}'
check "tampered token: 401 invalid_token" [ "$STATUS $(challenge)" = "401 $CHALLENGE_INVALID" ]
GENERIC=$BODY
TYP_BEFORE=$(failures typ)
send "$PROXY" "$(at jwtyp)" tools/list '{}'
check "a token with typ JWT (not at+jwt) from the strict issuer: 401 invalid_token" \
    [ "$STATUS $(challenge)" = "401 $CHALLENGE_INVALID" ]
check "... with the same generic body as any refused token" [ "$BODY" = "$GENERIC" ]
check "... counted under reason \"typ\"" [ "$(failures typ)" -gt "$TYP_BEFORE" ]
AUD_BEFORE=$(failures audience)
send "$PROXY" "$(at foreign)" tools/list '{}'
check "a token for another audience: 401 invalid_token, generic body" \
    [ "$STATUS $(challenge) $BODY" = "401 $CHALLENGE_INVALID $GENERIC" ]
check "... counted under reason \"audience\"" [ "$(failures audience)" -gt "$AUD_BEFORE" ]
LEGACY=$(at legacy mcp:tools)
send "$PROXY" "$LEGACY" tools/list '{}'
check "typ JWT with scp array from the issuer trusted with typ lenient: 200" [ "$STATUS" = 200 ]
send "$PROXY" "$LEGACY" tasks/list '{}'
check "... and its scp scopes count: no mcp:tasks, tasks/list is 403" [ "$STATUS" = 403 ]

# ---- 400: two Authorization headers ----
for url in "$PROXY" "$FRONTEND_A"; do
    rm -f "$TMP/h"
    rpc_with "$url" "$ALICE" tools/list '{}' "" -D "$TMP/h" -H "Authorization: Bearer $ALICE"
    check "two Authorization headers via $url: 400 invalid_request" \
        all_of '[ "$STATUS" = 400 ]' 'contains "$(challenge)" "error=\"invalid_request\""' \
        '[ "$(jbody .error)" = invalid_request ]'
done

# ---- 403 and the scope model ----
NOSCOPE=$(at alice -)
check "the provider issues alice a token without a scope claim when none is asked for" \
    [ "$(claims_of "$NOSCOPE" | jq -r '"\(.sub) \(has("scope"))"')" = "alice false" ]
for m in tools/list tasks/list; do
    send "$PROXY" "$NOSCOPE" "$m" '{}'
    check "a valid token without any scope: $m is 403 insufficient_scope" \
        all_of '[ "$STATUS" = 403 ]' 'contains "$(challenge)" "error=\"insufficient_scope\""'
done
send "$PROXY" "$NOSCOPE" tools/call '{"name":"echo","arguments":{"text":"x"}}' echo
check "... and cannot call a tool" [ "$STATUS" = 403 ]
send "$PROXY" "$(at toolsonly mcp:tools)" tasks/list '{}'
check "mcp:tools only: tasks/list is 403 insufficient_scope naming mcp:tasks" \
    all_of '[ "$STATUS" = 403 ]' 'contains "$(challenge)" "error=\"insufficient_scope\""' \
    'contains "$(challenge)" "scope=\"mcp:tasks\""' \
    'contains "$(challenge)" "resource_metadata=\"$META_URL\""'
send "$PROXY" "$(at tasksonly mcp:tasks)" tools/list '{}'
check "mcp:tasks only: tools/list is 403 naming mcp:tools" \
    all_of '[ "$STATUS" = 403 ]' 'contains "$(challenge)" "scope=\"mcp:tools\""'
send "$PROXY" "$ALICE" tools/list '{}'
ALICE_TOOLS=$(tool_names)
check "alice's tools/list: 200 without the scoped tool wordcount, private cache scope" \
    all_of '[ "$STATUS" = 200 ]' '! contains " $ALICE_TOOLS " " wordcount "' \
    'contains " $ALICE_TOOLS " " countdown "' '[ "$(jbody .result.cacheScope)" = private ]'
COUNTER=$(at counter "mcp:tools mcp:tasks tools:count")
send "$PROXY" "$COUNTER" tools/list '{}'
check "a token with tools:count lists wordcount too" \
    contains " $(tool_names) " " wordcount "
send "$PROXY" "$ALICE" tools/call '{"name":"wordcount","arguments":{"text":"a b"}}' wordcount
check "alice calling wordcount: 403 naming mcp:tools and tools:count" \
    all_of '[ "$STATUS" = 403 ]' 'contains "$(challenge)" "scope=\"mcp:tools tools:count\""'
call_task "$PROXY" "$COUNTER" wordcount '{"text":"one two three"}'
check "the tools:count token calls wordcount" [ "$STATUS" = 200 ]

# ---- the CLI explains refusals ----
TW="${TASKWIRE_STACK_BUILD_DIR:?}/cli/taskwire"
OUT=$("$TW" call --url "$PROXY" --token "$ALICE" wordcount text=hi 2>&1)
RC=$?
check "taskwire call without tools:count fails naming the missing scope and the metadata" \
    all_of '[ "$RC" -ne 0 ]' 'contains "$OUT" "lacks scope \"tools:count\""' \
    'contains "$OUT" "$META_URL"'
OUT=$(TASKWIRE_TOKEN='' "$TW" call --url "$PROXY" wordcount text=hi 2>&1)
RC=$?
check "taskwire call without a token says none was sent and which scopes to get" \
    all_of '[ "$RC" -ne 0 ]' 'contains "$OUT" "no token was sent"' \
    'contains "$OUT" "mcp:tools mcp:tasks"'

OUT=$("$TW" call --url "$PROXY" --token "$(at toolsonly mcp:tools)" sleep seconds=1 2>&1)
RC=$?
check "taskwire call whose token cannot read tasks stops at the first 403 (no retries)" \
    all_of '[ "$RC" -ne 0 ]' 'contains "$OUT" "lacks scope \"mcp:tasks\""' \
    '! contains "$OUT" "retrying"'

# ---- the operator scope ----
BOB=$(at bob)
OPS=$(at ops "mcp:tools mcp:tasks mcp:operator")
call_task "$PROXY" "$ALICE" sleep '{"seconds":30,"steps":3}'
ID=$TASK_ID
check "alice created a task" [ -n "$ID" ]
check "bob cannot read alice's task" [ "$(task_status "$PROXY" "$BOB" "$ID")" = "error -32602" ]
check "the operator reads alice's task" \
    [ "$(task_status "$PROXY" "$OPS" "$ID")" = working ]
rpc "$PROXY" "$BOB" tasks/cancel "{\"taskId\":\"$ID\"}" "$ID"
check "bob cannot cancel it (-32602) and it still works" \
    all_of '[ "$(jbody .error.code)" = -32602 ]' 'status_is "$PROXY" "$ALICE" "$ID" working'
rpc "$PROXY" "$OPS" tasks/cancel "{\"taskId\":\"$ID\"}" "$ID"
check "the operator cancels it (alice sees cancelled within 10 s)" \
    wait_for 10 status_is "$PROXY" "$ALICE" "$ID" cancelled
OPS_ONLY=$(at ops "mcp:operator")
call_task "$PROXY" "$ALICE" sleep '{"seconds":0.2,"steps":1}'
check "an operator-only token reads alice's task" \
    [ "$(task_status "$PROXY" "$OPS_ONLY" "$TASK_ID")" != "error -32602" ]
send "$PROXY" "$OPS_ONLY" tasks/list '{}'
check "... but tasks/list needs mcp:tasks (403)" [ "$STATUS" = 403 ]

# ---- key rotation at the provider, no restart ----
"$OAUTH" rotate k2 >/dev/null
rotated() { [ "$(header_of "$(at alice)" | jq -r .kid)" = k2 ]; }
check "the provider signs with the new key k2 after its reload (10 s)" wait_for 10 rotated
NEW=$(at alice)
accepted_by() {
    rpc "$1" "$NEW" tools/list '{}'
    [ "$STATUS" = 200 ]
}
check "frontend A accepts the k2 token (unknown kid -> refetch, 20 s)" \
    wait_for 20 accepted_by "$FRONTEND_A"
check "frontend B accepts the k2 token (20 s)" wait_for 20 accepted_by "$FRONTEND_B"
rpc "$PROXY" "$ALICE" tools/list '{}'
check "the k1 token still works while k1 is published" [ "$STATUS" = 200 ]

# ---- an outage of the authorization server: the last good keys stay in use ----
kept_count() { # kept_count N: failed fetches frontend N logged while keeping its keys
    grep -F '"msg":"JWKS fetch failed"' "$LOGS/frontend-$1.log" |
        grep -cF 'keeping the last good set'
}
fetch_failed_on() { # fetch_failed_on N: frontend N logged a new such failure
    local before=KEPT_$1
    [ "$(kept_count "$1")" -gt "${!before}" ]
}
KEPT_1=$(kept_count 1)
KEPT_2=$(kept_count 2)
"$OAUTH" stop-as
check "the provider is down" [ "$(curl -s -o /dev/null -w '%{http_code}' "$ISSUER/jwks")" = 000 ]
FORGED="$(printf '{"alg":"ES256","typ":"at+jwt","kid":"k9"}' | base64 -w0 | tr '+/' '-_' |
    tr -d '=').${NEW#*.}"
for fe in 1 2; do
    url=$FRONTEND_A
    [ "$fe" = 2 ] && url=$FRONTEND_B
    rpc "$url" "$FORGED" tools/list '{}' # an unknown kid: the frontend fetches again
    check "frontend $fe: a token with an unknown kid is refused (401)" [ "$STATUS" = 401 ]
    check "frontend $fe: its fetch fails during the outage and keeps the last good set (20 s)" \
        wait_for 20 fetch_failed_on "$fe"
    rpc "$url" "$NEW" tools/list '{}'
    check "frontend $fe: the k2 token is still accepted during the outage" [ "$STATUS" = 200 ]
done
"$OAUTH" start-as >/dev/null
back() { # the provider answers again and signs with k2, and frontend A accepts its token
    local t
    t=$(at alice) && [ "$(header_of "$t" | jq -r .kid)" = k2 ] &&
        rpc "$FRONTEND_A" "$t" tools/list '{}' && [ "$STATUS" = 200 ]
}
check "the provider is back (same port and keys) and its new tokens are accepted" back
check "no frontend restarted" \
    [ "$(grep -c '"msg":"frontend started"' "$LOGS"/frontend-*.log | cut -d: -f2 | sort -u)" = 1 ]
finish
