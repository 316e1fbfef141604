#!/usr/bin/env bash
# Nobody gets in through the fabric: a PULL socket without the frontends' key, and one with
# the key but its own worker key (not on the allow-list), connect to a frontend while tasks
# run and receive nothing; the refused handshake is counted.  Raw frames that declare huge
# messages (the 10-byte ZMTP 1.0 frame of the exposure report, and a 4 GiB one) leave every
# frontend alive, ready and no bigger than before; the stack's own workers, which hold the
# keys, keep running tasks.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
ROGUE=${FAULT_ROGUE:-$TASKWIRE_STACK_BUILD_DIR/tests/fault/fabric_rogue}
if [ ! -x "$ROGUE" ]; then
    echo "fabric_rogue not built at $ROGUE"
    exit 1
fi
fault_up 2 2
TOK=$(token fault-rogue)
FABRIC1=$((BASE + 21))
SERVER_KEY=$(cat "$SD/fabric/frontend.public")
FE_ADMIN() { echo "http://127.0.0.1:$((BASE + 10 + $1))"; }
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# Rogue pullers on frontend-1 for 6 s while 20 tasks are created and run.
REFUSED0=$(metric "$(FE_ADMIN 1)" 'taskwire_fabric_handshakes_total{outcome="refused"}')
"$ROGUE" pull "tcp://127.0.0.1:$FABRIC1" 6000 >"$TMP/plain.out" 2>&1 &
P1=$!
"$ROGUE" pull "tcp://127.0.0.1:$FABRIC1" 6000 "$SERVER_KEY" >"$TMP/curve.out" 2>&1 &
P2=$!
BG_PIDS+=("$P1" "$P2")
IDS=()
for i in $(seq 1 20); do
    call_task "$(frontend_url 1)" "$TOK" echo "{\"text\":\"job $i\"}"
    IDS+=("$TASK_ID")
done
all_done() {
    [ "$(psql_q "SELECT count(*) FROM tasks WHERE id IN ($(printf "'%s'," "${IDS[@]}" | sed 's/,$//'))
                 AND status = 'completed'")" = 20 ]
}
check "the 20 tasks complete on the stack's workers (keys held)" wait_for 30 all_done
wait "$P1" "$P2"
check "a plain PULL socket (no CURVE) received nothing" [ "$(cat "$TMP/plain.out")" = received=0 ]
check "a CURVE PULL socket with a key not on the list received nothing" \
    [ "$(cat "$TMP/curve.out")" = received=0 ]
refused() {
    [ "$(metric "$(FE_ADMIN 1)" 'taskwire_fabric_handshakes_total{outcome="refused"}')" -gt "$REFUSED0" ]
}
check "frontend-1 counted the refused handshake" wait_for 5 refused

# Frames that declare huge messages, to both frontends' fabric ports.
PIDS=("$(stack_pid frontend-1)" "$(stack_pid frontend-2)")
RSS0=("$(rss_kb "${PIDS[0]}")" "$(rss_kb "${PIDS[1]}")")
for f in 1 2; do
    port=$((BASE + 20 + f))
    check "the 10-byte frame reaches frontend-$f" \
        "$ROGUE" frame 127.0.0.1 "$port" ff47745ac781f9ea0700
    check "a frame declaring 4 GiB reaches frontend-$f" \
        "$ROGUE" frame 127.0.0.1 "$port" ff0000000100000000000102030405060708090a0b0c0d0e0f
done
for f in 1 2; do
    pid=${PIDS[$((f - 1))]}
    check "frontend-$f is alive" pid_alive "$pid"
    check "frontend-$f is ready" http_ok "$(FE_ADMIN "$f")/readyz"
    grown=$(($(rss_kb "$pid") - ${RSS0[$((f - 1))]}))
    echo "# frontend-$f RSS grew by $grown KiB"
    check "frontend-$f memory did not grow (< 8 MiB)" [ "$grown" -lt 8192 ]
done
call_task "$PROXY" "$TOK" echo '{"text":"after"}'
check "a task created afterwards still completes" wait_for 15 db_status_is "$TASK_ID" completed
fault_finish
