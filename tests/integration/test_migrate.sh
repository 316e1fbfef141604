#!/usr/bin/env bash
# test_migrate.sh - 'taskwire migrate' against a throwaway PostgreSQL 15.
#
# Starts its own cluster (initdb -A trust, loopback only) in a mktemp folder,
# then checks: a second run changes nothing, concurrent runs apply each
# migration once, changed or unknown history is refused (exit 5), an
# unreachable server is exit 4, and the catalog has what 0001 creates and the
# valid per-owner index 0005 builds concurrently.
# Usage: TASKWIRE_BIN=build/cli/taskwire test_migrate.sh [PORT]  (or TEST_PG_PORT; default 21050)
# SPDX-License-Identifier: Apache-2.0
set -uo pipefail

TW=${TASKWIRE_BIN:?TASKWIRE_BIN must name the taskwire binary}
PORT=${1:-${TEST_PG_PORT:-21050}}
PASSED=0
FAILED=0

pass() { PASSED=$((PASSED + 1)); echo "ok   - $*"; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL - $*"; }
die() { echo "test_migrate: $*" >&2; exit 1; }

[[ -x "$TW" ]] || die "TASKWIRE_BIN=$TW is not executable"
# shellcheck source=tests/integration/pgtemp.sh
. "$(dirname "$0")/pgtemp.sh"
pgtemp_start "$PORT" migrate

psql_q() { "$PG_BIN/psql" -XAtq -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
# run_migrate DB: runs migrate with a deadline; sets OUT, ERR, RC
run_migrate() {
    OUT=$(timeout 120 "$TW" migrate --pg-dsn "$(dsn "$1")" 2>"$ROOT/err")
    RC=$?
    ERR=$(cat "$ROOT/err")
}
applied_of() { sed -n 's/^migrations: \([0-9][0-9]*\) applied, \([0-9][0-9]*\) total$/\1/p' <<<"$1"; }
total_of() { sed -n 's/^migrations: \([0-9][0-9]*\) applied, \([0-9][0-9]*\) total$/\2/p' <<<"$1"; }

for db in first racing tamper; do
    "$PG_BIN/createdb" "$db" || die "createdb $db failed"
done

# ---- first run, then a second that changes nothing ----
run_migrate first
N=$(applied_of "$OUT")
TOTAL=$(total_of "$OUT")
if [[ $RC -eq 0 && -n "$N" && "$N" -ge 1 && "$N" == "$TOTAL" ]]; then
    pass "first migrate applies all $N migration(s)"
else
    fail "first migrate: exit $RC, stdout '$OUT', stderr '$ERR' (wanted 'migrations: N applied, N total', N >= 1)"
fi

# a fixed \restrict key (pg_dump >= 15.14 picks a random one per dump)
DUMP=("$PG_BIN/pg_dump" --schema-only)
if [[ "$("$PG_BIN/pg_dump" --help)" == *--restrict-key* ]]; then
    DUMP+=(--restrict-key=taskwiretest)
fi
"${DUMP[@]}" -d first >"$ROOT/before.sql" 2>"$ROOT/dump.err" ||
    fail "pg_dump failed: $(cat "$ROOT/dump.err")"
ROWS_BEFORE=$(psql_q first "SELECT version, name, sha256, applied_at FROM schema_migrations ORDER BY 1")
run_migrate first
if [[ $RC -eq 0 && "$(applied_of "$OUT")" == 0 && "$(total_of "$OUT")" == "$TOTAL" ]]; then
    pass "second migrate applies nothing"
else
    fail "second migrate: exit $RC, stdout '$OUT', stderr '$ERR' (wanted 'migrations: 0 applied, $TOTAL total')"
fi
"${DUMP[@]}" -d first >"$ROOT/after.sql" 2>>"$ROOT/dump.err"
if diff -u "$ROOT/before.sql" "$ROOT/after.sql" >"$ROOT/schema.diff"; then
    pass "second migrate leaves the schema identical (pg_dump --schema-only)"
else
    fail "second migrate changed the schema:"
    head -40 "$ROOT/schema.diff"
fi
ROWS_AFTER=$(psql_q first "SELECT version, name, sha256, applied_at FROM schema_migrations ORDER BY 1")
if [[ -n "$ROWS_BEFORE" && "$ROWS_BEFORE" == "$ROWS_AFTER" ]]; then
    pass "second migrate leaves schema_migrations rows unchanged"
else
    fail "schema_migrations changed: before '$ROWS_BEFORE', after '$ROWS_AFTER'"
fi
if [[ "$(psql_q first "SELECT count(*) FROM schema_migrations WHERE sha256 ~ '^[0-9a-f]{64}$'")" == "$TOTAL" ]]; then
    pass "one schema_migrations row per migration, each with a sha256"
else
    fail "schema_migrations rows: $(psql_q first "SELECT version, sha256 FROM schema_migrations")"
fi

# ---- the catalog ----
if [[ "$(psql_q first "SELECT to_regclass('public.tasks') IS NOT NULL")" == t ]]; then
    pass "table tasks exists"
else
    fail "table tasks is missing"
fi
IDX=$(psql_q first "SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'tasks' AND indexname = 'tasks_queued_idx'")
PARTIAL=$(psql_q first "SELECT i.indpred IS NOT NULL FROM pg_index i WHERE i.indexrelid = to_regclass('public.tasks_queued_idx') AND i.indrelid = to_regclass('public.tasks')")
if [[ -n "$IDX" && "$PARTIAL" == t && "$IDX" == *"WHERE"*"queued"* ]]; then
    pass "tasks_queued_idx is a partial index on tasks ($IDX)"
else
    fail "tasks_queued_idx missing or not partial: '$IDX'"
fi

# 0005 builds its index concurrently (no transaction): it must exist and be valid.
VALID=$(psql_q first "SELECT string_agg(c.relname || '=' || i.indisvalid, ' ' ORDER BY c.relname)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
    WHERE c.relname IN ('tasks_owner_id_idx', 'tasks_owner_list_idx')")
if [[ "$VALID" == "tasks_owner_id_idx=true tasks_owner_list_idx=true" ]]; then
    pass "the per-owner indexes (0004, and 0005 built concurrently) exist and are valid"
else
    fail "per-owner indexes: '$VALID'"
fi

# ---- four runners at once on a fresh database ----
PIDS=()
for i in 1 2 3 4; do
    timeout 120 "$TW" migrate --pg-dsn "$(dsn racing)" >"$ROOT/race$i.out" 2>"$ROOT/race$i.err" &
    PIDS+=($!)
done
RACE_OK=1
SUM=0
for i in 1 2 3 4; do
    wait "${PIDS[$((i - 1))]}"
    rc=$?
    if [[ $rc -ne 0 ]]; then
        RACE_OK=0
        echo "  runner $i: exit $rc: $(cat "$ROOT/race$i.err")"
    fi
    n=$(applied_of "$(cat "$ROOT/race$i.out")")
    SUM=$((SUM + ${n:-0}))
done
if ((RACE_OK)); then
    pass "4 concurrent migrates all exit 0"
else
    fail "a concurrent migrate failed"
fi
if [[ "$SUM" == "$TOTAL" ]]; then
    pass "concurrent migrates applied $TOTAL migration(s) in all, not more"
else
    fail "concurrent migrates applied $SUM in all, wanted $TOTAL"
fi
ROWS=$(psql_q racing "SELECT count(*), count(DISTINCT version) FROM schema_migrations")
if [[ "$ROWS" == "$TOTAL|$TOTAL" ]]; then
    pass "exactly one schema_migrations row per version after the race"
else
    fail "schema_migrations after the race: count|distinct = '$ROWS', wanted '$TOTAL|$TOTAL'"
fi

# ---- refused history ----
run_migrate tamper
FIRST=$(psql_q tamper "SELECT min(version) FROM schema_migrations")
psql_q tamper "UPDATE schema_migrations SET sha256 = 'x' WHERE version = $FIRST" >/dev/null
run_migrate tamper
if [[ $RC -eq 5 && "$ERR" == "taskwire migrate: "*"migration $FIRST "* && -z "$OUT" ]]; then
    pass "changed checksum refused with exit 5 naming migration $FIRST"
else
    fail "changed checksum: exit $RC, stdout '$OUT', stderr '$ERR' (wanted exit 5 naming migration $FIRST)"
fi
if [[ $(wc -l <<<"$ERR") -eq 1 ]]; then
    pass "the refusal is one line on stderr"
else
    fail "the refusal is not one line: '$ERR'"
fi
psql_q tamper "UPDATE schema_migrations SET sha256 = '$(psql_q first "SELECT sha256 FROM schema_migrations WHERE version = $FIRST")' WHERE version = $FIRST; INSERT INTO schema_migrations (version, name, sha256) VALUES (9999, 'from_the_future', 'y')" >/dev/null
run_migrate tamper
if [[ $RC -eq 5 && "$ERR" == *9999* ]]; then
    pass "unknown newer version refused with exit 5 naming 9999"
else
    fail "future version: exit $RC, stderr '$ERR' (wanted exit 5 naming 9999)"
fi

# ---- no database ----
OUT=$(timeout 60 "$TW" migrate --pg-dsn "host=127.0.0.1 port=1 user=taskwire dbname=x connect_timeout=5" 2>"$ROOT/err")
RC=$?
ERR=$(cat "$ROOT/err")
if [[ $RC -eq 4 && "$ERR" == "taskwire migrate: "* ]]; then
    pass "unreachable database is exit 4"
else
    fail "unreachable database: exit $RC, stderr '$ERR' (wanted 4)"
fi

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 && $PASSED -gt 0 ]]
