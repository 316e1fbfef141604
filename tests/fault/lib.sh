# shellcheck shell=bash
# lib.sh - helpers for the fault-injection tests (tests/fault/test_*.sh).
#
# Each fault test starts its OWN stack (deploy/local/stack) in TASKWIRE_STACK_DIR on
# TASKWIRE_STACK_PORT_BASE (both given by tests/fault/CMakeLists.txt, one port block per
# test so they run side by side under ctest -j), breaks one thing, and checks that the
# invariants of /work/shared/design/architecture.md still hold.  The stack is always
# stopped on exit (trap), whatever happens; processes started by hand are recorded in the
# stack's pid folder so that `stack down` stops them too.  Every wait has a deadline.
# Builds on tests/integration/lib.sh (rpc, rpc_with, call_task, task_status, wait_for,
# psql_q, log_count, check, finish).
# SPDX-License-Identifier: Apache-2.0

# Short settings, so that lease expiry and sweeps happen within seconds.  Exported: the
# stack passes every TASKWIRE_* variable on to the frontends and workers.
export TASKWIRE_LEASE_MS=${TASKWIRE_LEASE_MS:-3000}
export TASKWIRE_SWEEP_MS=${TASKWIRE_SWEEP_MS:-300}
export TASKWIRE_IDLE_POLL_MS=${TASKWIRE_IDLE_POLL_MS:-200}
export TASKWIRE_POLL_INTERVAL_MS=${TASKWIRE_POLL_INTERVAL_MS:-100}
export TASKWIRE_AUTH=jwt
export TASKWIRE_STACK_TIMEOUT_S=${TASKWIRE_STACK_TIMEOUT_S:-120}
: "${TASKWIRE_STACK_DIR:?TASKWIRE_STACK_DIR must be set (this test own state folder)}"
: "${TASKWIRE_STACK_BUILD_DIR:?TASKWIRE_STACK_BUILD_DIR must be set (where the binaries are)}"
export TASKWIRE_STACK_DIR TASKWIRE_STACK_BUILD_DIR
# Where `stack down` keeps the logs, read for sanitizer reports (never skipped: by hand too).
export TASKWIRE_STACK_LOG_ARCHIVE=${TASKWIRE_STACK_LOG_ARCHIVE:-$TASKWIRE_STACK_DIR.logs}

# shellcheck source=../integration/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"

SD=$TASKWIRE_STACK_DIR
LOGS=$SD/logs
BG_PIDS=()        # background loops of this script, stopped on exit
FAULT_DOWN_DONE=0 # fault_down ran

# ---- start and stop ----

# fault_up [FRONTENDS] [WORKERS]: start this test's stack (removing a stale one first).
fault_up() {
    export TASKWIRE_STACK_FRONTENDS=${1:-2} TASKWIRE_STACK_WORKERS=${2:-2}
    "$STACK" down >/dev/null 2>&1 || true
    if ! "$STACK" up >"$TMP/up.out" 2>"$TMP/up.err"; then
        cat "$TMP/up.err"
        echo "FAIL - stack up"
        echo "0 passed, 1 failed"
        exit 1
    fi
    echo "# stack up: base $BASE, $TASKWIRE_STACK_FRONTENDS frontend(s), $TASKWIRE_STACK_WORKERS worker(s), lease ${TASKWIRE_LEASE_MS} ms"
}

# fault_down: stop the stack (archiving its logs) and count sanitizer reports as a failure.
# Idempotent; also run from the EXIT trap.  A test may define fault_pre_down to undo its
# fault first (e.g. SIGCONT a stopped process).
fault_down() {
    [ "$FAULT_DOWN_DONE" = 1 ] && return 0
    FAULT_DOWN_DONE=1
    local p
    declare -F fault_pre_down >/dev/null && fault_pre_down
    for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null; done
    local archive=$TASKWIRE_STACK_LOG_ARCHIVE
    rm -rf "$archive"
    "$STACK" down >"$TMP/down.out" 2>&1 || { cat "$TMP/down.out"; fail "stack down"; }
    # Every incarnation of a process (restarted ones append) wrote to these files.
    if ! compgen -G "$archive/worker-*.log" >/dev/null; then
        fail "no worker logs archived in $archive: sanitizer reports cannot be checked"
    elif grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: .*Sanitizer' \
        "$archive"/frontend-*.log "$archive"/worker-*.log 2>/dev/null; then
        fail "sanitizer reports in the logs above"
    fi
}

fault_exit() {
    local rc=$?
    fault_down
    rm -rf "$TMP"
    exit "$rc"
}
trap fault_exit EXIT
trap 'echo "FAIL - stopped by a signal (the watchdog fires after ${FAULT_LIMIT_S}s)"; exit 130' INT TERM

# A watchdog below the ctest TIMEOUT: a test that overruns is stopped through the traps
# above (so its stack is stopped), not killed by ctest (which would leave the stack running:
# its processes run in their own sessions).
FAULT_LIMIT_S=${FAULT_LIMIT_S:-240}
(
    end=$((SECONDS + FAULT_LIMIT_S))
    while [ "$SECONDS" -lt "$end" ]; do sleep 1; done
    kill -TERM $$
) </dev/null >/dev/null 2>&1 &
BG_PIDS+=($!)

# fault_finish: stop the stack, then print "N passed, M failed" and exit.
fault_finish() {
    fault_down
    finish
}

# ---- time and waiting ----

# now_ms: wall clock in milliseconds (no fork).
now_ms() {
    local t=${EPOCHREALTIME/./}
    echo $((t / 1000))
}

# wait_ms MS COMMAND...: retry every 50 ms until COMMAND succeeds or MS milliseconds pass.
# Sets WAITED_MS to the time it took (or the time spent before giving up).
# shellcheck disable=SC2034 # WAITED_MS is for the caller
wait_ms() {
    local start end
    start=$(now_ms)
    end=$((start + $1))
    shift
    while ! "$@"; do
        if [ "$(now_ms)" -ge "$end" ]; then
            WAITED_MS=$(($(now_ms) - start))
            return 1
        fi
        sleep 0.05
    done
    WAITED_MS=$(($(now_ms) - start))
}

# ---- processes of the stack ----

# stack_pid NAME: the recorded pid of NAME (frontend-1, worker-2, postgres, redis, proxy).
stack_pid() {
    local pid _st
    read -r pid _st <"$SD/pids/$1.pid" 2>/dev/null || return 1
    echo "$pid"
}

# pid_alive PID: the process exists and is not a zombie.
pid_alive() {
    local s
    s=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
    s=${s##*) }
    [ "${s%% *}" != Z ]
}
pid_dead() { ! pid_alive "$1"; }

# name_alive NAME: the recorded process NAME runs.
name_alive() {
    local pid
    pid=$(stack_pid "$1") || return 1
    pid_alive "$pid"
}

# record_pid NAME PID: record PID as NAME in the stack's pid folder, in the stack's format
# ("<pid> <start time>"), so `stack status` and `stack down` see it.
record_pid() {
    local s f
    s=$(cat "/proc/$2/stat" 2>/dev/null) || return 1
    s=${s##*) }
    read -r -a f <<<"$s"
    printf '%s %s\n' "$2" "${f[19]}" >"$SD/pids/$1.pid"
}

# snapshot NAME: save the command line and the environment of the running process NAME
# (as the stack started it) under $TMP, so that it can be started again exactly so.
snapshot() {
    local pid
    pid=$(stack_pid "$1") || return 1
    cp "/proc/$pid/environ" "$TMP/$1.environ" && cp "/proc/$pid/cmdline" "$TMP/$1.cmdline"
}

# spawn_cmd NAME CMD...: start CMD in its own session with its output appended to
# logs/NAME.log and every inherited descriptor above 2 closed, as the stack does; record its
# pid as NAME.  Prints the pid.
spawn_cmd() {
    local name=$1
    shift
    local tmp="$SD/pids/$name.pid.new" i
    rm -f "$tmp"
    # shellcheck disable=SC2016
    setsid -f bash -c 'for f in /proc/$$/fd/*; do f=${f##*/}; [ "$f" -gt 2 ] && eval "exec $f>&-"; done
        echo "$$" >"$0.tmp" && mv -f "$0.tmp" "$0" && exec "$@"' \
        "$tmp" "$@" </dev/null >>"$LOGS/$name.log" 2>&1
    for ((i = 0; i < 100; i++)); do
        [ -s "$tmp" ] && break
        sleep 0.05
    done
    [ -s "$tmp" ] || return 1
    local pid
    pid=$(<"$tmp")
    rm -f "$tmp"
    record_pid "$name" "$pid" || return 1
    echo "$pid"
}

# respawn NAME [SRC] [VAR=VALUE...]: start process NAME (a frontend or worker) again from the
# snapshot of SRC (default NAME): the same command line and environment, plus the VAR=VALUE
# overrides.  Prints the new pid.
respawn() {
    local name=$1 src=${2:-$1}
    shift
    [ $# -gt 0 ] && shift
    local -a envv cmd
    [ -f "$TMP/$src.environ" ] || snapshot "$src" || return 1
    mapfile -d '' -t envv <"$TMP/$src.environ"
    mapfile -d '' -t cmd <"$TMP/$src.cmdline"
    spawn_cmd "$name" env -i "${envv[@]}" "$@" "${cmd[@]}"
}

# redis_start: start the stack's Redis again, with the stack's command line (Redis rewrites
# its /proc cmdline, so no snapshot), and wait (5 s) for PONG.
redis_start() {
    local port=$((BASE + 41))
    mkdir -p "$SD/redis"
    spawn_cmd redis redis-server "$SD/redis-auth.conf" --bind 127.0.0.1 --port "$port" --save '' \
        --appendonly no --daemonize no --dir "$SD/redis" --logfile "$LOGS/redis.log" >/dev/null ||
        return 1
    redis_pong() { [ "$(REDISCLI_AUTH=$(cat "$SD/redis-password") redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null)" = PONG ]; }
    wait_for 5 redis_pong
}

# http_ok URL: GET URL answers 200.
http_ok() { [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" 2>/dev/null)" = 200 ]; }

# worker_admin J: the admin base URL of worker J.
worker_admin() { echo "http://127.0.0.1:$((BASE + 30 + $1))"; }
# frontend_url I: the MCP URL of frontend I.
frontend_url() { echo "http://127.0.0.1:$((BASE + $1))/mcp"; }

# metric URL NAME: the value of metric NAME (with labels, as printed) at URL/metrics.
metric() {
    curl -s -m 2 "$1/metrics" 2>/dev/null | awk -v n="$2" '$1 == n { print $2; f = 1 } END { if (!f) print 0 }'
}

# ---- tasks ----

# row ID: "status attempt worker_id result_is_null" from PostgreSQL.
row() {
    psql_q "SELECT status || ' ' || attempt || ' ' || coalesce(worker_id, '-') || ' ' ||
            (result IS NULL) FROM tasks WHERE id = '$1'" 2>/dev/null
}
db_status() { psql_q "SELECT status FROM tasks WHERE id = '$1'" 2>/dev/null; }
db_status_is() { [ "$(db_status "$1")" = "$2" ]; }

# sql_ids FILE: the task ids in FILE (one per line) as a SQL list: 'a','b',...
sql_ids() {
    sed "s/.*/'&'/" "$1" | paste -sd, -
}

# nonterminal_of FILE: how many of the ids in FILE are not terminal (missing rows count).
nonterminal_of() {
    local n ids
    n=$(wc -l <"$1")
    [ "$n" -gt 0 ] || {
        echo 0
        return
    }
    ids=$(sql_ids "$1")
    local term
    term=$(psql_q "SELECT count(*) FROM tasks WHERE id IN ($ids)
                   AND status IN ('completed', 'failed', 'cancelled')" 2>/dev/null) || term=-1
    [ "$term" -ge 0 ] 2>/dev/null || {
        echo "$n"
        return
    }
    echo $((n - term))
}
all_terminal() { [ "$(nonterminal_of "$1")" = 0 ]; }

# ---- PostgreSQL of the stack ----

# pg_ctl_stack ARGS...: run the stack's pg_ctl as the stack runs it (as nobody from the data
# folder's parent when root; see deploy/local/stack as_pg), with PGDATA set, every inherited
# descriptor above 2 closed and output appended to logs/pg_ctl.log.
pg_ctl_stack() {
    # shellcheck disable=SC2034 # set by sourcing stack.env; declared local to keep them here
    local BASE NFRONT NWORK BUILD AUTH_MODE PG_BIN PG_ROOT PG_TMP PG_NOBODY
    # shellcheck source=/dev/null
    . "$SD/stack.env"
    local -a as=()
    if [ "${PG_NOBODY:-0}" = 1 ]; then
        as=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups --)
    fi
    # shellcheck disable=SC2016
    (cd "$PG_ROOT" && "${as[@]}" bash -c 'for f in /proc/$$/fd/*; do f=${f##*/}; [ "$f" -gt 2 ] && eval "exec $f>&-"; done; exec "$@"' \
        pg_ctl "$PG_BIN/pg_ctl" -D "$PG_ROOT/data" "$@") </dev/null >>"$LOGS/pg_ctl.log" 2>&1
}

# pg_stop: stop the stack's PostgreSQL (fast shutdown: sessions are cut).
pg_stop() { pg_ctl_stack stop -m fast -w -t 30; }

# pg_start: start it again with the options the stack uses, and record the new postmaster's
# pid so that `stack status` and `stack down` find it.
pg_start() {
    local port=$((BASE + 40))
    # shellcheck disable=SC2034 # set by sourcing stack.env; declared local to keep them here
    local BASE NFRONT NWORK BUILD AUTH_MODE PG_BIN PG_ROOT PG_TMP PG_NOBODY
    # shellcheck source=/dev/null
    . "$SD/stack.env"
    local log=$LOGS/postgres.log
    [ "${PG_NOBODY:-0}" = 1 ] && log=$PG_ROOT/postgres.log
    local opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$PG_ROOT/data"
    opts+=" -c fsync=off -c full_page_writes=off -c max_connections=200"
    pg_ctl_stack start -w -t 30 -l "$log" -o "$opts" || return 1
    record_pid postgres "$(head -n 1 "$PG_ROOT/data/postmaster.pid")"
}
