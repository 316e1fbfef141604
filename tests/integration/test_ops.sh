#!/usr/bin/env bash
# The operator's view against the stack: the worker registry (registration, refresh,
# expiry of dead rows, a clean stop leaving it), drain and undrain (a drained worker takes
# no new task while the other does, and finishes what it runs), and the commands
# taskwire status (text and --json against the database), top (in a pseudo-terminal,
# quitting on q; plain lines otherwise), tasks list|show|cancel and workers list|drain.
# SPDX-License-Identifier: Apache-2.0
# shellcheck disable=SC2016,SC2034 # all_of takes conditions as single-quoted strings, evaluated later
. "$(dirname "$0")/lib.sh"
TOK=$(token ops-test)
TW="${TASKWIRE_STACK_BUILD_DIR:?}/cli/taskwire"
export TASKWIRE_PG_DSN="host=127.0.0.1 port=$((BASE + 40)) user=taskwire dbname=taskwire"
trap '"$TW" workers undrain worker-1 >/dev/null 2>&1; psql_q "DELETE FROM workers WHERE id LIKE '"'"'ops-ghost%'"'"'" >/dev/null; rm -rf "$TMP"' EXIT

# ---- registry: both stack workers registered, with their slots and tools ----
check "both stack workers are registered with 4 slots, the version and their tools" [ \
    "$(psql_q "SELECT string_agg(id || ':' || slots || ':' || version || ':' || ('echo' = ANY(tools)), ' ' ORDER BY id) FROM workers WHERE id IN ('worker-1', 'worker-2')")" \
    = "worker-1:4:0.1.0:true worker-2:4:0.1.0:true" ]
SEEN1=$(psql_q "SELECT extract(epoch FROM last_seen) FROM workers WHERE id = 'worker-1'")
seen_later() { [ "$(psql_q "SELECT extract(epoch FROM last_seen) > $SEEN1 FROM workers WHERE id = 'worker-1'")" = t ]; }
check "the heartbeat refreshes last_seen (every lease-ms / 3)" wait_for 12 seen_later

# A dead row (not seen for three lease periods) is deleted by the sweep; a fresh one stays.
psql_q "INSERT INTO workers (id, host, version, slots, last_seen) VALUES
        ('ops-ghost-dead', 'h', '0', 1, now() - interval '10 minutes'),
        ('ops-ghost-fresh', 'h', '0', 1, now())" >/dev/null
gone() { [ "$(psql_q "SELECT count(*) FROM workers WHERE id = 'ops-ghost-dead'")" = 0 ]; }
check "a dead worker's row expires" wait_for 10 gone
check "a recently seen row stays" [ "$(psql_q "SELECT count(*) FROM workers WHERE id = 'ops-ghost-fresh'")" = 1 ]
psql_q "DELETE FROM workers WHERE id = 'ops-ghost-fresh'" >/dev/null

# A worker of its own: registers when it starts, leaves the registry on a clean stop.
W="$TASKWIRE_STACK_BUILD_DIR/worker/taskwire-worker"
TASKWIRE_FABRIC_CONNECT="tcp://127.0.0.1:$((BASE + 21))" \
    TASKWIRE_REDIS_ADDR="127.0.0.1:$((BASE + 41))" TASKWIRE_ADMIN_LISTEN="" \
    TASKWIRE_WORKER_ID=worker-ops TASKWIRE_SLOTS=2 TASKWIRE_GRACE_MS=1000 \
    TASKWIRE_FABRIC_SERVER_KEY="$(cat "${TASKWIRE_STACK_DIR:?}/fabric/frontend.public")" \
    TASKWIRE_FABRIC_SECRET_KEY_FILE="$TASKWIRE_STACK_DIR/fabric/worker.secret" \
    TASKWIRE_REDIS_PASSWORD_FILE="$TASKWIRE_STACK_DIR/redis-password" \
    "$W" >"$TMP/worker-ops.log" 2>&1 &
WPID=$!
registered() { [ "$(psql_q "SELECT slots FROM workers WHERE id = 'worker-ops'")" = 2 ]; }
check "a starting worker registers itself" wait_for 10 registered
check "workers list shows it" bash -c "'$TW' workers list | grep -q '^worker-ops .* 2 .* active'"
kill -TERM "$WPID"
wait "$WPID"
check "it stops cleanly" [ $? = 0 ]
check "and leaves the registry" [ "$(psql_q "SELECT count(*) FROM workers WHERE id = 'worker-ops'")" = 0 ]

# ---- drain: worker-1 finishes what it runs, takes nothing new; worker-2 takes it ----
SLEEPS=()
for _ in 1 2 3 4 5 6; do
    call_task "$PROXY" "$TOK" sleep '{"seconds":12,"steps":12}'
    SLEEPS+=("$TASK_ID")
done
IDS=$(printf "'%s'," "${SLEEPS[@]}")
IDS=${IDS%,}
all_running() { [ "$(psql_q "SELECT count(*) FROM tasks WHERE id IN ($IDS) AND status = 'running'")" = 6 ]; }
check "six long tasks run" wait_for 10 all_running
ON1=$(psql_q "SELECT count(*) FROM tasks WHERE id IN ($IDS) AND worker_id = 'worker-1'")
check "some of them on worker-1" between "$ON1" 1 4
check "workers drain worker-1 answers" bash -c "'$TW' workers drain worker-1 | grep -q 'worker-1 draining'"
check "the flag is in the table" [ "$(psql_q "SELECT draining FROM workers WHERE id = 'worker-1'")" = t ]
drained() { grep -q '"draining: no new work will be taken"' "$LOGS/worker-1.log"; }
check "worker-1 sees the flag within a heartbeat" wait_for 12 drained
check "workers list says draining" bash -c "'$TW' workers list | grep -q '^worker-1 .*draining'"
NEW=()
for _ in 1 2 3 4 5 6; do
    call_task "$PROXY" "$TOK" echo '{"text":"while draining"}'
    NEW+=("$TASK_ID")
done
NIDS=$(printf "'%s'," "${NEW[@]}")
NIDS=${NIDS%,}
new_done() { [ "$(psql_q "SELECT count(*) FROM tasks WHERE id IN ($NIDS) AND status = 'completed'")" = 6 ]; }
check "new tasks complete while worker-1 drains" wait_for 20 new_done
check "all of them on worker-2" [ "$(psql_q "SELECT string_agg(DISTINCT worker_id, ',') FROM tasks WHERE id IN ($NIDS)")" = worker-2 ]
sleeps_done() { [ "$(psql_q "SELECT count(*) FROM tasks WHERE id IN ($IDS) AND status = 'completed'")" = 6 ]; }
check "the drained worker finishes the tasks it was running" wait_for 25 sleeps_done
check "on worker-1, not handed elsewhere" [ "$(psql_q "SELECT count(*) FROM tasks WHERE id IN ($IDS) AND worker_id = 'worker-1' AND attempt = 1")" = "$ON1" ]
check "worker-1 is alive and still refreshing" [ "$(psql_q "SELECT now() - last_seen < interval '10 seconds' FROM workers WHERE id = 'worker-1'")" = t ]
check "workers undrain worker-1 answers" bash -c "'$TW' workers undrain worker-1 | grep -q 'takes work again'"
lifted() { grep -q '"drain lifted: taking work"' "$LOGS/worker-1.log"; }
check "worker-1 takes work again within a heartbeat" wait_for 12 lifted
"$TW" workers drain no-such-worker >/dev/null 2>&1
check "draining an unknown worker exits 7" [ $? = 7 ]

# ---- status: text and --json match the database ----
# Probe rows nobody claims (not_before in the future), one running under a ghost lease.
for i in 1 2 3; do
    psql_q "INSERT INTO tasks (id, owner, tool, args, ttl_ms, poll_interval_ms, expires_at,
            created_at, not_before) VALUES (gen_random_uuid(), 'ops-probe', 'ops_probe', '{}',
            600000, 100, now() + interval '10 minutes', now() - interval '${i}00 seconds',
            now() + interval '1 hour')" >/dev/null
done
psql_q "INSERT INTO tasks (id, owner, tool, args, ttl_ms, poll_interval_ms, expires_at, status,
        worker_id, lease_until, attempt) VALUES (gen_random_uuid(), 'ops-probe', 'ops_probe', '{}',
        600000, 100, now() + interval '10 minutes', 'running', 'ghost', now() + interval '1 hour', 1)" >/dev/null
call_task "$PROXY" "$TOK" protocol_error_job '{}'
FAILED_ID=$TASK_ID
check "a failing task fails" wait_for 10 status_is "$PROXY" "$TOK" "$FAILED_ID" failed
counted() { [ "$(psql_q "SELECT coalesce(sum(n), 0) > 0 FROM task_outcomes WHERE tool = 'protocol_error_job' AND status = 'failed'")" = t ]; }
check "its outcome is counted within a heartbeat" wait_for 12 counted
"$TW" status --json >"$TMP/status.json"
check "status --json exits 0" [ $? = 0 ]
probe() { jq -r --arg k "$1" '.tools[] | select(.tool == "ops_probe") | .[$k]' "$TMP/status.json"; }
check "queued by tool matches the database" [ "$(probe queued)" = \
    "$(psql_q "SELECT count(*) FROM tasks WHERE tool = 'ops_probe' AND status = 'queued'")" ]
check "the oldest queued age is that of the oldest row (300 s)" \
    jq -e '.tools[] | select(.tool == "ops_probe") | .oldest_queued_s >= 300 and .oldest_queued_s < 330' "$TMP/status.json" >/dev/null
check "running by tool matches the database" [ "$(probe running)" = 1 ]
check "failed outcomes of the window match task_outcomes" [ \
    "$(jq -r '.tools[] | select(.tool == "protocol_error_job") | .failed' "$TMP/status.json")" = \
    "$(psql_q "SELECT sum(n) FROM task_outcomes WHERE tool = 'protocol_error_job' AND status = 'failed' AND minute > now() - interval '5 minutes'")" ]
check "totals and failure rate add up" jq -e '.totals.failure_rate > 0 and .totals.failure_rate ==
    ((.totals.failed / (.totals.failed + .totals.completed)) * 10000 | round / 10000)
    and .totals.queued == ([.tools[].queued] | add)' "$TMP/status.json" >/dev/null
check "workers in --json are the registry's" [ "$(jq -r '[.workers[].id] | join(",")' "$TMP/status.json")" = \
    "$(psql_q "SELECT string_agg(id, ',' ORDER BY id) FROM workers")" ]
TEXT=$("$TW" status)
check "status text has the probe row (3 queued, 1 running)" \
    grep -Eq '^ops_probe +3 +3[0-2][0-9]\.[0-9]s +1 +0 ' <<<"$TEXT"
check "status text has the failure rate and the workers" all_of \
    'grep -q "^failure rate [0-9.]*% (" <<<"$TEXT"' 'grep -q "^worker-2 " <<<"$TEXT"'
TASKWIRE_PG_DSN="host=127.0.0.1 port=1 user=nobody dbname=none" "$TW" status >/dev/null 2>&1
check "an unreachable database exits 4" [ $? = 4 ]

# ---- top: a pseudo-terminal, then plain lines ----
check "top in a pseudo-terminal shows the numbers and quits on q, restoring the terminal" \
    python3 - "$TW" <<'PY'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "top", "--interval-ms", "300"])
out, deadline = b"", time.time() + 10
while time.time() < deadline and not (b"ops_probe" in out and out.count(b"taskwire top") >= 2):
    r, _, _ = select.select([fd], [], [], 0.5)
    if r:
        out += os.read(fd, 65536)
os.write(fd, b"q")
end = time.time() + 5
while time.time() < end:
    done, status = os.waitpid(pid, os.WNOHANG)
    if done:
        break
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            out += os.read(fd, 65536)
        except OSError:
            pass
else:
    os.kill(pid, 9)
    sys.exit("top did not quit on q")
while True:  # what top wrote as it quit (the terminal's restore) may still be in the pty
    try:
        r, _, _ = select.select([fd], [], [], 0.5)
        chunk = os.read(fd, 65536) if r else b""
    except OSError:
        break
    if not chunk:
        break
    out += chunk
text = out.decode("utf-8", "replace")
ok = (os.WEXITSTATUS(status) == 0 and "\x1b[?1049h" in text and text.rstrip().endswith("\x1b[?1049l")
      and any(l.split()[:2] == ["ops_probe", "3"] for l in text.replace("\x1b[H\x1b[2J", "\n").splitlines())
      and "\u2581" in text)
sys.exit(0 if ok else "unexpected screen: " + repr(text[-2000:]))
PY
PLAIN=$("$TW" top --count 2 --interval-ms 200)
check "top prints plain lines when stdout is not a terminal" all_of \
    '[ "$(grep -c " tool=ops_probe queued=3 " <<<"$PLAIN")" = 2 ]' '! grep -q $'"'"'\x1b'"'"' <<<"$PLAIN"'

# ---- tasks list, show, cancel ----
check "tasks list filters by tool and status" [ \
    "$("$TW" tasks list --tool ops_probe --status queued --json | jq length)" = 3 ]
check "and by age" [ "$("$TW" tasks list --tool ops_probe --older-than 250 --json | jq length)/$("$TW" tasks list --tool ops_probe --newer-than 150 --json | jq length)" = "1/2" ]
check "and by owner, newest first" [ "$("$TW" tasks list --owner ops-test --limit 2 --json | jq -r '.[0].id')" = "$FAILED_ID" ]
SHOW=$("$TW" tasks show "$FAILED_ID")
check "tasks show prints the task, its timeline and its error" all_of \
    'grep -q "^status *failed" <<<"$SHOW"' 'grep -q "^  created_at " <<<"$SHOW"' \
    'grep -q "simulated protocol failure" <<<"$SHOW"'
"$TW" tasks show 01a20000-0000-7000-8000-000000000000 >/dev/null 2>&1
check "showing an unknown task exits 7" [ $? = 7 ]

call_task "$PROXY" "$TOK" sleep '{"seconds":30,"steps":30}'
CID=$TASK_ID
check "a long task runs" wait_for 10 status_is "$PROXY" "$TOK" "$CID" working
OUT=$(TASKWIRE_REDIS_ADDR="127.0.0.1:$((BASE + 41))" \
    TASKWIRE_REDIS_PASSWORD_FILE="$TASKWIRE_STACK_DIR/redis-password" "$TW" tasks cancel "$CID")
check "tasks cancel cancels it" [ "$OUT" = "$CID cancelled" ]
check "the database says cancelled" [ "$(psql_q "SELECT status FROM tasks WHERE id = '$CID'")" = cancelled ]
stopped() { [ "$(log_count 'tool stopped: task cancelled or lease lost' "$CID")" = 1 ]; }
check "the worker stops the tool" wait_for 5 stopped
check "a second cancel says it was finished" [ "$("$TW" tasks cancel "$CID")" = "$CID was already finished" ]
for id in $(psql_q "SELECT id FROM tasks WHERE tool = 'ops_probe'"); do
    "$TW" tasks cancel "$id" >/dev/null
done
check "the probes cancelled from the CLI" [ "$(psql_q "SELECT count(*) FROM tasks WHERE tool = 'ops_probe' AND status <> 'cancelled'")" = 0 ]
finish
