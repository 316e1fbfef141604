#!/usr/bin/env bash
# Authentication is on by default: no token, a forged or foreign token gets
# 401 with a challenge and changes nothing.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
BEFORE=$(psql_q "SELECT count(*) FROM tasks WHERE owner = 'auth-test'")

rpc "$PROXY" "" tools/list '{}'
check "no token: 401" [ "$STATUS" = 401 ]
check "no token: WWW-Authenticate Bearer challenge" \
    curl -s -o /dev/null -D "$TMP/h" -X POST "$PROXY" -d '{}' -H 'Content-Type: application/json' \
    && grep -qi '^www-authenticate: Bearer' "$TMP/h"
rpc "$PROXY" "not.a.jwt" tools/list '{}'
check "garbage token: 401" [ "$STATUS" = 401 ]
GOOD=$(token auth-test)
TAMPERED="${GOOD%?????}AAAAA"
rpc "$PROXY" "$TAMPERED" tools/call '{"name":"sleep","arguments":{"seconds":1}}' sleep
check "tampered signature: 401" [ "$STATUS" = 401 ]
TW="${TASKWIRE_STACK_BUILD_DIR:?}/cli/taskwire"
OTHER_AUD=$("$TW" token --key "$TASKWIRE_STACK_DIR/dev-key.jwk" --issuer taskwire-dev \
    --audience https://elsewhere.example/mcp auth-test)
rpc "$PROXY" "$OTHER_AUD" tools/call '{"name":"sleep","arguments":{"seconds":1}}' sleep
check "token for another audience: 401" [ "$STATUS" = 401 ]
OTHER_ISS=$("$TW" token --key "$TASKWIRE_STACK_DIR/dev-key.jwk" --issuer someone-else \
    --audience "$PROXY" auth-test)
rpc "$PROXY" "$OTHER_ISS" tools/list '{}'
check "token from another issuer: 401" [ "$STATUS" = 401 ]
check "no task was created by refused requests" \
    [ "$(psql_q "SELECT count(*) FROM tasks WHERE owner = 'auth-test'")" = "$BEFORE" ]
rpc "$PROXY" "$GOOD" tools/list '{}'
check "valid token: 200" [ "$STATUS" = 200 ]
curl -s "http://127.0.0.1:$((BASE + 1))/healthz" -o "$TMP/hz"
check "/healthz needs no token" grep -q ok "$TMP/hz"
finish
