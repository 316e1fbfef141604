#!/usr/bin/env bash
# Authentication is on by default: no token, a forged or foreign token gets
# 401 with a Bearer challenge (RFC 6750, pointing at the RFC 9728 metadata and
# naming the basic scopes) and a generic body, and changes nothing.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
BEFORE=$(psql_q "SELECT count(*) FROM tasks WHERE owner = 'auth-test'")

# challenge: the WWW-Authenticate value of the last response whose headers went to $TMP/h
# (empty when there is none).
challenge() {
    tr -d '\r' <"$TMP/h" 2>/dev/null | sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate: *//p' | head -n 1
}

# refused WHAT TOKEN METHOD PARAMS NAME WANT_CHALLENGE WANT_ERROR: send the request with
# TOKEN; check the 401, its exact challenge and its OAuth-style body.
refused() {
    local what=$1 tok=$2 method=$3 params=$4 name=$5 want=$6 error=$7
    rm -f "$TMP/h"
    rpc_with "$PROXY" "$tok" "$method" "$params" "$name" -D "$TMP/h"
    check "$what: 401" [ "$STATUS" = 401 ]
    check "$what: WWW-Authenticate: $want" [ "$(challenge)" = "$want" ]
    check "$what: body error \"$error\" with a description" \
        [ "$(jbody '"\(.error) \(.error_description | type)"')" = "$error string" ]
}

META="resource_metadata=\"http://127.0.0.1:$BASE/.well-known/oauth-protected-resource/mcp\""
MISSING="Bearer scope=\"mcp:tools mcp:tasks\", $META"
INVALID="Bearer error=\"invalid_token\", scope=\"mcp:tools mcp:tasks\", $META"
refused "no token" "" tools/list '{}' "" "$MISSING" unauthorized
refused "garbage token" "not.a.jwt" tools/list '{}' "" "$INVALID" invalid_token
GOOD=$(token auth-test)
TAMPERED="${GOOD%?????}AAAAA"
refused "tampered signature" "$TAMPERED" tools/call '{"name":"sleep","arguments":{"seconds":1}}' \
    sleep "$INVALID" invalid_token
TW="${TASKWIRE_STACK_BUILD_DIR:?}/cli/taskwire"
OTHER_AUD=$("$TW" token --key "$TASKWIRE_STACK_DIR/dev-key.jwk" --issuer taskwire-dev \
    --audience https://elsewhere.example/mcp auth-test)
refused "token for another audience" "$OTHER_AUD" tools/call \
    '{"name":"sleep","arguments":{"seconds":1}}' sleep "$INVALID" invalid_token
OTHER_ISS=$("$TW" token --key "$TASKWIRE_STACK_DIR/dev-key.jwk" --issuer someone-else \
    --audience "$PROXY" auth-test)
refused "token from another issuer" "$OTHER_ISS" tools/list '{}' "" "$INVALID" invalid_token
# A body that is not even JSON-RPC: authentication comes first.
rm -f "$TMP/h"
STATUS=$(curl -s -o /dev/null -w '%{http_code}' -D "$TMP/h" -X POST "$PROXY" -d '{}' \
    -H 'Content-Type: application/json')
check "no token, no JSON-RPC: 401 with the challenge" \
    [ "$STATUS $(challenge)" = "401 $MISSING" ]
check "no task was created by refused requests" \
    [ "$(psql_q "SELECT count(*) FROM tasks WHERE owner = 'auth-test'")" = "$BEFORE" ]
rm -f "$TMP/h"
rpc_with "$PROXY" "$GOOD" tools/list '{}' "" -D "$TMP/h"
check "valid token: 200" [ "$STATUS" = 200 ]
check "valid token: no challenge" [ -z "$(challenge)" ]
check "/healthz needs no token" \
    [ "$(curl -s -w '%{http_code}' "http://127.0.0.1:$((BASE + 1))/healthz" | tr -d '\n')" = ok200 ]
finish
