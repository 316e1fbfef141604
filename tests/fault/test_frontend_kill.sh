#!/usr/bin/env bash
# kill -9 of a frontend during a burst of creates through the proxy: every acknowledged task
# (a taskId came back) reaches a terminal status, none is lost; rows committed whose answer
# was lost finish too.  haproxy retries refused connections on the other frontend.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
fault_up 2 2
PRINCIPAL=fault-b-$$
TOK=$(token "$PRINCIPAL")
N=${FAULT_BURST:-200}
KILL_AT=$((N / 2))
ACKS=$TMP/acked  # one acknowledged task id per line
ANSWERS=$TMP/answers # "<http status> <task id or ->" per create

: >"$ACKS"
: >"$ANSWERS"
# The burst: N creates through the proxy from two concurrent streams (so that the kill lands
# on requests in flight), each create on a new connection.
burst() {
    TMP=$TMP/bg$1
    mkdir -p "$TMP"
    for ((i = 0; i < N / 2; i++)); do
        call_task "$PROXY" "$TOK" sleep '{"seconds":0.1,"steps":1}'
        echo "$STATUS ${TASK_ID:--}" >>"$ANSWERS"
        [ -n "$TASK_ID" ] && echo "$TASK_ID" >>"$ACKS"
    done
}
burst 1 &
B1=$!
burst 2 &
B2=$!
BG_PIDS+=("$B1" "$B2")
answered() { [ "$(wc -l <"$ANSWERS" 2>/dev/null || echo 0)" -ge "$1" ]; }
check "the burst is under way ($KILL_AT answers)" wait_for 60 answered "$KILL_AT"
FPID=$(stack_pid frontend-1)
kill -KILL "$FPID"
echo "# killed frontend-1 (pid $FPID) after $(wc -l <"$ANSWERS") answers"
check "frontend-1 is gone" wait_ms 2000 pid_dead "$FPID"
burst_done() { ! kill -0 "$B1" 2>/dev/null && ! kill -0 "$B2" 2>/dev/null; }
check "the burst finishes" wait_for 90 burst_done
wait "$B1" "$B2" 2>/dev/null

NACK=$(wc -l <"$ACKS")
NOK=$(awk '$1 == 200' "$ANSWERS" | wc -l)
echo "# HTTP answers: $(cut -d' ' -f1 "$ANSWERS" | sort | uniq -c | awk '{printf "%s x%s  ", $2, $1}')acknowledged: $NACK of $N"
check "all $N creates answered" [ "$(wc -l <"$ANSWERS")" = "$N" ]
check "every 200 carried a taskId" [ "$NOK" = "$NACK" ]
check "most creates were acknowledged (>= $((N * 9 / 10)))" [ "$NACK" -ge $((N * 9 / 10)) ]
check "every acknowledged task id is in PostgreSQL" \
    [ "$(psql_q "SELECT count(*) FROM tasks WHERE id IN ($(sql_ids "$ACKS"))")" = "$NACK" ]
check "every acknowledged task reaches a terminal status (60 s)" wait_for 60 all_terminal "$ACKS"
echo "# not terminal: $(nonterminal_of "$ACKS")"
check "every acknowledged task completed" \
    [ "$(psql_q "SELECT count(*) FROM tasks WHERE id IN ($(sql_ids "$ACKS")) AND status = 'completed'")" = "$NACK" ]
# Rows committed by frontend-1 whose answer was lost to the kill are not acknowledged, but
# they must not be stuck either.
owner_live() {
    [ "$(psql_q "SELECT count(*) FROM tasks WHERE owner = '$PRINCIPAL'
                 AND status NOT IN ('completed', 'failed', 'cancelled')")" = 0 ]
}
check "no task of this principal is left non-terminal (20 s)" wait_for 20 owner_live
EXTRA=$(psql_q "SELECT count(*) FROM tasks WHERE owner = '$PRINCIPAL'")
echo "# rows of this principal: $EXTRA ($((EXTRA - NACK)) committed without an acknowledgement)"
check "no acknowledged task ran twice (one 'task finished' line each)" [ "$(
    cat "$LOGS"/worker-*.log | grep -F '"msg":"task finished"' | grep -oE '"task_id":"[^"]+"' |
        sort | uniq -d | wc -l
)" = 0 ]
check "frontend-2 is still ready" http_ok "$(frontend_url 2 | sed 's#/mcp$#/readyz#')"
fault_finish
