# shellcheck shell=bash
# pgtemp.sh - a throwaway PostgreSQL 15 cluster for one test (sourced).
#
#   . pgtemp.sh; pgtemp_start PORT NAME
#
# Starts a cluster (initdb -A trust, loopback only, fsync off) in a mktemp folder
# /tmp/taskwire-NAME-test.XXXXXX ($ROOT; the data folder is $DATA) and stops and removes
# it when the shell exits (an EXIT trap).  As root, PostgreSQL refuses to run: the server
# runs as nobody, in a folder nobody can reach (the folder is made 0755 for that).
# Exports PGHOST, PGPORT, PGUSER and PGCONNECT_TIMEOUT for psql and createdb; dsn DB
# prints the libpq conninfo of database DB.  Needs die() from the caller; PG_BIN may name
# the server binaries (default /usr/lib/postgresql/15/bin).
# SPDX-License-Identifier: Apache-2.0
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

pgtemp_cleanup() {
    if [[ -f "$DATA/postmaster.pid" ]]; then
        "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$DATA" stop -m immediate -w -t 30 >/dev/null 2>&1
    fi
    rm -rf "$ROOT"
}

pgtemp_start() {
    local port=$1 name=$2
    [[ -x "$PG_BIN/initdb" ]] || die "no PostgreSQL binaries in $PG_BIN"
    if ! [[ "$port" =~ ^[0-9]+$ ]] || ((port < 1024 || port > 65535)); then
        die "bad port '$port'"
    fi
    ROOT=$(mktemp -d "/tmp/taskwire-$name-test.XXXXXX") || die "mktemp failed"
    chmod 755 "$ROOT"
    DATA="$ROOT/pg/data"
    mkdir "$ROOT/pg"
    AS_PG=()
    if [[ $(id -u) -eq 0 ]]; then
        chown nobody "$ROOT/pg"
        AS_PG=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
    fi
    trap pgtemp_cleanup EXIT
    "${AS_PG[@]}" "$PG_BIN/initdb" -D "$DATA" -A trust -U taskwire -E UTF8 --locale=C \
        >"$ROOT/pg/initdb.log" 2>&1 || { cat "$ROOT/pg/initdb.log" >&2; die "initdb failed"; }
    # pg_ctl -w waits for readiness with its own deadline (-t)
    "${AS_PG[@]}" "$PG_BIN/pg_ctl" -D "$DATA" -l "$ROOT/pg/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories=$ROOT/pg -c fsync=off" \
        start >/dev/null 2>&1 ||
        { cat "$ROOT/pg/server.log" >&2; die "PostgreSQL did not start on port $port"; }
    export PGHOST=127.0.0.1 PGPORT=$port PGUSER=taskwire PGCONNECT_TIMEOUT=10
    unset PGDATABASE PGPASSWORD PGSERVICE
}

dsn() { echo "host=127.0.0.1 port=$PGPORT user=taskwire dbname=$1"; }
