#!/usr/bin/env bash
# Recovery paths that need no fault injection: retryable failures back off
# and retry, a job nobody was told about is found (redispatch / idle claim),
# and a worker finds frontends through dns:// names.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
TOK=$(token recovery-test)

# A retryable failure is queued again after a backoff, then succeeds.
call_task "$PROXY" "$TOK" flaky_job '{"failures":1}'
ID=$TASK_ID
check "flaky_job becomes a task" [ -n "$ID" ]
check "it succeeds on its second attempt" wait_for 20 status_is "$FRONTEND_B" "$TOK" "$ID" completed
rpc "$FRONTEND_B" "$TOK" tasks/get "{\"taskId\":\"$ID\"}" "$ID"
check "the result says attempt 2" [ "$(jbody '.result.result.content[0].text')" = "succeeded on attempt 2" ]
check "the stored attempt count is 2" [ "$(psql_q "SELECT attempt FROM tasks WHERE id = '$ID'")" = 2 ]
check "the retry waited for its backoff (not_before set)" [ "$(psql_q "SELECT not_before > created_at FROM tasks WHERE id = '$ID'")" = t ]
call_task "$PROXY" "$TOK" flaky_job '{"failures":5}'
FID=$TASK_ID
check "a task that keeps failing ends failed after max attempts" wait_for 30 status_is "$FRONTEND_A" "$TOK" "$FID" failed
rpc "$FRONTEND_A" "$TOK" tasks/get "{\"taskId\":\"$FID\"}" "$FID"
check "with the tool's message as the error" \
    contains "$(jbody '.result.error.message')" "transient failure on attempt 3"

# A queued task that was never pushed (as if its frontend died right after the
# commit) is still run: by the redispatcher or an idle worker.
LOST=01a20000-0000-7000-8000-$(printf '%012x' $((RANDOM * RANDOM)))
psql_q "INSERT INTO tasks (id, owner, tool, args, ttl_ms, poll_interval_ms, expires_at)
        VALUES ('$LOST', 'recovery-test', 'echo', '{\"text\":\"found\"}', 60000, 100,
                now() + interval '1 minute')" >/dev/null
check "a task that was never pushed still completes" wait_for 15 status_is "$FRONTEND_A" "$TOK" "$LOST" completed

# A worker that finds the frontends through dns:// names.
W="${TASKWIRE_STACK_BUILD_DIR:?}/worker/taskwire-worker"
TASKWIRE_FABRIC_CONNECT="dns://localhost:$((BASE + 21)),dns://localhost:$((BASE + 22))" \
    TASKWIRE_PG_DSN="host=127.0.0.1 port=$((BASE + 40)) user=taskwire dbname=taskwire" \
    TASKWIRE_REDIS_ADDR="127.0.0.1:$((BASE + 41))" TASKWIRE_ADMIN_LISTEN="127.0.0.1:$((BASE + 48))" \
    TASKWIRE_WORKER_ID=worker-dns TASKWIRE_SLOTS=1 TASKWIRE_GRACE_MS=1000 \
    TASKWIRE_FABRIC_SERVER_KEY="$(cat "${TASKWIRE_STACK_DIR:?}/fabric/frontend.public")" \
    TASKWIRE_FABRIC_SECRET_KEY_FILE="$TASKWIRE_STACK_DIR/fabric/worker.secret" \
    TASKWIRE_REDIS_PASSWORD_FILE="$TASKWIRE_STACK_DIR/redis-password" \
    "$W" >"$TMP/worker-dns.log" 2>&1 &
WPID=$!
check "the dns:// worker connects to both frontends" wait_for 10 bash -c \
    "[ \$(grep -c '\"fabric: connected\"' '$TMP/worker-dns.log') -ge 2 ]"
check "through the resolved address" grep -q "tcp://127.0.0.1:$((BASE + 21))" "$TMP/worker-dns.log"
kill -TERM "$WPID"
check "it stops cleanly on SIGTERM" wait_for 10 bash -c "! kill -0 $WPID 2>/dev/null"
wait "$WPID"
check "with exit status 0" [ $? = 0 ]
finish
