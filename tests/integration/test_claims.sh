#!/usr/bin/env bash
# test_claims.sh - claim tokens against a throwaway PostgreSQL 15: migrate it, then run
# the claims program (tests/integration/claims.c), which needs a database no worker uses.
# Usage: TASKWIRE_BIN=build/cli/taskwire CLAIMS_BIN=build/tests/integration/claims
#        test_claims.sh PORT
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail

TW=${TASKWIRE_BIN:?TASKWIRE_BIN must name the taskwire binary}
CLAIMS=${CLAIMS_BIN:?CLAIMS_BIN must name the claims test program}
PORT=${1:?usage: test_claims.sh PORT}
die() { echo "test_claims: $*" >&2; exit 1; }

# shellcheck source=tests/integration/pgtemp.sh
. "$(dirname "$0")/pgtemp.sh"
pgtemp_start "$PORT" claims
"$PG_BIN/createdb" claims || die "createdb failed"
timeout 120 "$TW" migrate --pg-dsn "$(dsn claims)" >/dev/null || die "migrate failed"
timeout 120 "$CLAIMS" "$(dsn claims)"
