#!/usr/bin/env bash
# kill -9 of a frontend while creates are provably inside it, during a burst of creates
# through the proxy.  To hold creates in flight, a session takes LOCK TABLE tasks IN SHARE
# MODE (reads go on, writes wait): every create then waits at its INSERT, inside a frontend,
# with its request read and no answer sent.  Two creates are also sent straight to
# frontend-1.  Once PostgreSQL shows an INSERT of frontend-1's own connections waiting on the
# lock, frontend-1 is killed, then the lock is released.  Checks: every acknowledged task (a
# taskId came back) completes, none is lost; only the creates in flight at the kill went
# unanswered; and every row that exists completes, including rows committed for creates whose
# answer was cut (no half task).  haproxy retries refused connections on the other frontend.
# SPDX-License-Identifier: Apache-2.0
# A load from one principal, not a test of its limits (test_limits.sh): no create rate limit.
export TASKWIRE_RATE_CREATE_PER_S=0
. "$(dirname "$0")/lib.sh"
fault_up 2 2
PRINCIPAL=fault-b-$$
DIRECT_P=fault-b-direct-$$ # the creates sent straight to frontend-1
TOK=$(token "$PRINCIPAL")
DIRECT_TOK=$(token "$DIRECT_P")
N=${FAULT_BURST:-200}
STREAMS=2
NDIRECT=2
ACKS=$TMP/acked      # one acknowledged task id per line (burst)
ANSWERS=$TMP/answers # "<http status> <task id or ->" per create (burst)
DIRECT=$TMP/direct   # the same for the direct creates
: >"$ACKS"
: >"$ANSWERS"
: >"$DIRECT"

# The burst: N creates through the proxy from STREAMS concurrent streams, each create on a
# new connection.
burst() {
    TMP=$TMP/bg$1
    mkdir -p "$TMP"
    for ((i = 0; i < N / STREAMS; i++)); do
        call_task "$PROXY" "$TOK" sleep '{"seconds":0.1,"steps":1}'
        echo "$STATUS ${TASK_ID:--}" >>"$ANSWERS"
        [ -n "$TASK_ID" ] && echo "$TASK_ID" >>"$ACKS"
    done
}
# direct K: one create straight to frontend-1 (no proxy, so no retry elsewhere).
direct() {
    TMP=$TMP/direct$1
    mkdir -p "$TMP"
    call_task "$(frontend_url 1)" "$DIRECT_TOK" sleep '{"seconds":0.1,"steps":1}'
    echo "$STATUS ${TASK_ID:--}" >>"$DIRECT"
}
# pg_ports_of PID: the local ports of PID's TCP connections to the stack's PostgreSQL.
pg_ports_of() {
    local inodes pg h
    inodes=" $(find "/proc/$1/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null |
        sed 's/^socket:\[\([0-9]*\)\]$/\1/' | paste -sd' ') "
    pg=$(printf '%04X' $((BASE + 40)))
    while read -r h; do
        echo $((16#$h))
    done < <(awk -v ino="$inodes" -v pg="$pg" 'NR > 1 { split($2, l, ":"); split($3, r, ":")
                   if (r[2] == pg && index(ino, " " $10 " ")) print l[2] }' "/proc/$1/net/tcp")
}
# waiting_inserts PORTS: INSERTs into tasks from those client ports that wait on a lock (one
# create, or several written together: "WITH b AS (...) INSERT INTO tasks").
waiting_inserts() {
    local ports
    ports=$(paste -sd, <<<"$1")
    [ -n "$ports" ] || {
        echo 0
        return
    }
    psql_q "SELECT count(*) FROM pg_stat_activity WHERE client_port IN ($ports)
            AND wait_event_type = 'Lock' AND query LIKE '%INSERT INTO tasks%'"
}

for ((s = 1; s <= STREAMS; s++)); do
    burst "$s" &
    BG_PIDS+=($!)
done
answered() { [ "$(wc -l <"$ANSWERS")" -ge "$1" ]; }
check "the burst is under way ($((N / 4)) answers, 60 s)" wait_for 60 answered $((N / 4))

# Hold every write: a session of our own takes the lock and keeps it until told.
mkfifo "$TMP/lock.in"
psql -X -At -v ON_ERROR_STOP=1 -h 127.0.0.1 -p $((BASE + 40)) -U taskwire -d taskwire \
    <"$TMP/lock.in" >"$TMP/lock.out" 2>&1 &
LOCK_PID=$!
BG_PIDS+=("$LOCK_PID")
exec 7>"$TMP/lock.in"
echo "BEGIN; LOCK TABLE tasks IN SHARE MODE; SELECT 'locked';" >&7
locked() { grep -qx locked "$TMP/lock.out"; }
check "the tasks table is locked for writes (10 s)" wait_for 10 locked
for ((d = 1; d <= NDIRECT; d++)); do
    direct "$d" &
    BG_PIDS+=($!)
done
FPID=$(stack_pid frontend-1)
inside_f1() {
    IN_F1=$(waiting_inserts "$(pg_ports_of "$FPID")")
    [ "$IN_F1" -ge 1 ] 2>/dev/null
}
check "a create is in flight inside frontend-1: its INSERT waits on the lock (10 s)" \
    wait_for 10 inside_f1
NANS_KILL=$(wc -l <"$ANSWERS")
kill -KILL "$FPID"
echo "# killed frontend-1 (pid $FPID) with $IN_F1 of its INSERTs waiting; $NANS_KILL burst answers so far"
check "frontend-1 is gone" wait_ms 2000 pid_dead "$FPID"
echo "COMMIT;" >&7
exec 7>&-
unlocked() { ! kill -0 "$LOCK_PID" 2>/dev/null; }
check "the lock is released (10 s)" wait_for 10 unlocked

burst_done() {
    local p
    for p in "${BG_PIDS[@]:1}"; do
        [ "$p" = "$LOCK_PID" ] && continue
        kill -0 "$p" 2>/dev/null && return 1
    done
    return 0
}
check "the burst and the direct creates finish (90 s)" wait_for 90 burst_done

NACK=$(wc -l <"$ACKS")
NOK=$(awk '$1 == 200' "$ANSWERS" | wc -l)
echo "# burst HTTP answers: $(cut -d' ' -f1 "$ANSWERS" | sort | uniq -c | awk '{printf "%s x%s  ", $2, $1}')acknowledged: $NACK of $N"
echo "# direct creates to frontend-1: $(cut -d' ' -f1 "$DIRECT" | sort | uniq -c | awk '{printf "%s x%s  ", $2, $1}')"
check "all $N burst creates answered" [ "$(wc -l <"$ANSWERS")" = "$N" ]
check "every 200 carried a taskId" [ "$NOK" = "$NACK" ]
check "only the creates in flight at the kill went unacknowledged (at most $STREAMS)" \
    [ $((N - NACK)) -le "$STREAMS" ]
check "the direct creates, in flight inside frontend-1, were cut: no taskId" \
    [ "$(wc -l <"$DIRECT") $(grep -vc ' -$' "$DIRECT")" = "$NDIRECT 0" ]
check "every acknowledged task id is in PostgreSQL" \
    [ "$(psql_q "SELECT count(*) FROM tasks WHERE id IN ($(sql_ids "$ACKS"))")" = "$NACK" ]
acked_completed() {
    [ "$(psql_q "SELECT count(*) FROM tasks WHERE id IN ($(sql_ids "$ACKS")) AND status = 'completed'")" = "$NACK" ]
}
check "every acknowledged task completes: 0 lost (60 s)" wait_for 60 acked_completed
echo "# acknowledged not completed: $(nonterminal_of "$ACKS") not terminal"
# Rows committed for creates whose answer was cut are not acknowledged, but they must not be
# half tasks: each one completes.
rows_completed() {
    [ "$(psql_q "SELECT count(*) FROM tasks WHERE owner IN ('$PRINCIPAL', '$DIRECT_P')
                 AND status <> 'completed'")" = 0 ]
}
check "every row of the burst and of the direct creates completes (30 s)" wait_for 30 rows_completed
ROWS=$(psql_q "SELECT count(*) FROM tasks WHERE owner = '$PRINCIPAL'")
DROWS=$(psql_q "SELECT count(*) FROM tasks WHERE owner = '$DIRECT_P'")
echo "# rows: burst $ROWS ($((ROWS - NACK)) committed without an acknowledgement), direct $DROWS of $NDIRECT"
check "burst rows: the acknowledged ones, plus at most one per cut create" \
    between "$ROWS" "$NACK" "$N"
check "direct rows: at most one per direct create" [ "$DROWS" -le "$NDIRECT" ]
check "no task ran twice (one 'task finished' line each)" [ "$(
    cat "$LOGS"/worker-*.log | grep -F '"msg":"task finished"' | grep -oE '"task_id":"[^"]+"' |
        sort | uniq -d | wc -l
)" = 0 ]
check "frontend-2 is still ready" http_ok "http://127.0.0.1:$((BASE + 2))/readyz"
fault_finish
