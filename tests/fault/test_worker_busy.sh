#!/usr/bin/env bash
# A busy worker holds the envelopes that arrive while every slot is busy (one per slot) and
# each outcome claims the next held task in its own commit.  With one worker of one slot, a
# burst of tasks runs one after the other, most of them claimed that way, each exactly once
# at its first attempt.  kill -9 of that worker while it runs one task and holds the next
# loses neither: the held task is still queued in PostgreSQL, and the worker started again
# runs it (idle polls), while the one it ran is requeued by the lease sweep.
# SPDX-License-Identifier: Apache-2.0
export TASKWIRE_SLOTS=1
. "$(dirname "$0")/lib.sh"
fault_up 1 1
TOK=$(token fault-busy)
ADMIN=$(worker_admin 1)
JOINED=taskwire_claims_with_outcome_total
BACKOFF_MS=1250 # the longest first-retry backoff (common/store.c BACKOFF: 1 s * 1.25)
N=8

# ---- a burst: the slot's outcomes claim the next tasks ----
: >"$TMP/burst"
for ((i = 0; i < N; i++)); do
    call_task "$PROXY" "$TOK" sleep '{"seconds":0.2,"steps":1}'
    echo "$TASK_ID" >>"$TMP/burst"
done
check "$N tasks created" [ "$(grep -c . "$TMP/burst")" = "$N" ]
check "all of them complete (one slot: about $((N * 200)) ms)" wait_ms 20000 all_terminal "$TMP/burst"
check "each completed exactly once, at its first attempt" [ \
    "$(psql_q "SELECT count(*) FROM tasks WHERE id IN ($(sql_ids "$TMP/burst"))
               AND status = 'completed' AND attempt = 1")" = "$N" ]
J=$(metric "$ADMIN" "$JOINED")
echo "# $J of $N claimed in the commit of the previous outcome"
check "most were claimed in the commit of the previous task's outcome" [ "$J" -ge $((N / 2)) ]

# ---- kill -9 while one task runs and the next is held ----
call_task "$PROXY" "$TOK" sleep '{"seconds":30,"steps":30}'
A=$TASK_ID
check "a long task runs on the only slot" wait_for 10 db_status_is "$A" running
call_task "$PROXY" "$TOK" echo '{"text":"held"}'
B=$TASK_ID
HELD=taskwire_worker_envelopes_held
held() { [ "$(metric "$ADMIN" "$HELD")" = 1 ]; }
check "the busy worker holds the next task's envelope ($HELD 1)" wait_for 10 held
WPID=$(stack_pid worker-1)
snapshot worker-1
kill -KILL "$WPID"
T_KILL=$(now_ms)
check "the worker is gone" wait_ms 2000 pid_dead "$WPID"
check "the held task is still queued, not lost" db_status_is "$B" queued
NEW=$(respawn worker-1)
check "the worker starts again" [ -n "$NEW" ]
row_is() { [ "$(psql_q "SELECT status || ' ' || attempt FROM tasks WHERE id = '$1'")" = "$2" ]; }
check "the held task completes after the restart (idle poll), at its first attempt" \
    wait_ms $((TASKWIRE_IDLE_POLL_MS + 5000)) row_is "$B" "completed 1"
LIMIT=$((TASKWIRE_LEASE_MS + TASKWIRE_SWEEP_MS + BACKOFF_MS + TASKWIRE_IDLE_POLL_MS + 2000))
check "the task it ran is requeued and runs again (attempt 2)" \
    wait_ms $((LIMIT - ($(now_ms) - T_KILL))) row_is "$A" "running 2"
rpc "$PROXY" "$TOK" tasks/cancel "{\"taskId\":\"$A\"}" "$A"
check "exactly one outcome for the held task" [ "$(log_count 'task finished' "$B")" = 1 ]
fault_finish
