#!/usr/bin/env bash
# The attack suite (issue 10, with the probes of issue 9): hostile requests and inputs against
# a stack of its own (deploy/local/stack: haproxy, 2 frontends, 2 workers, PostgreSQL, Redis),
# each with the answer a correct server gives, then the invariants:
#  - front door and admin ports: tests/attack/front.mjs (tokens, headers, bodies, JSON-RPC,
#    foreign tasks, requestState, Origin/Host, methods, paths, sizes, rate limits and caps);
#  - Redis: unauthenticated and wrong-password clients refused; forged cancel events for
#    alice's running task (the worker re-reads the row and keeps running it: verdict "kept"),
#    forged change events and garbage; events carry no owner and no arguments;
#  - the fabric: rogue PULL sockets (no CURVE, an unlisted key) get nothing; garbage, truncated
#    and oversized frames (tests/fault/fabric_rogue) leave the frontends alive and small;
#    garbage envelopes and a forged job for alice's running task (tests/fault/fabric_inject)
#    are dropped or lose the claim;
#  - the tools manifest: a frontend and a worker given hostile manifests refuse to start
#    (exit 3, a message naming the manifest) within seconds;
#  - afterwards: alice's task rows are exactly as before, no principal has a row a refused
#    request made, every process of the stack runs, no sanitizer report and no secret (bearer
#    tokens, the Redis password, the requestState key, the fabric and signing keys) in any log.
# Ports: TASKWIRE_STACK_PORT_BASE (test base + 950) to +49.
# SPDX-License-Identifier: Apache-2.0
FAULT_LIMIT_S=${FAULT_LIMIT_S:-420}
# The per-principal budgets are raised for the bulk of the cases (one token sends hundreds of
# requests in seconds); the limits file keeps three principals at tiny limits for the 429s.
export TASKWIRE_RATE_CREATE_PER_S=1000 TASKWIRE_RATE_CREATE_BURST=2000
export TASKWIRE_RATE_READ_PER_S=1000 TASKWIRE_RATE_READ_BURST=2000
export TASKWIRE_RATE_OTHER_PER_S=1000 TASKWIRE_RATE_OTHER_BURST=2000
# shellcheck source=../fault/lib.sh
. "$(dirname "$0")/../fault/lib.sh"
HERE=$ROOT/tests/attack
ROGUE=${FAULT_ROGUE:-$TASKWIRE_STACK_BUILD_DIR/tests/fault/fabric_rogue}
INJECT=${FAULT_INJECT:-$TASKWIRE_STACK_BUILD_DIR/tests/fault/fabric_inject}
for t in "$ROGUE" "$INJECT"; do
    [ -x "$t" ] || {
        echo "$t is not built"
        exit 1
    }
done
NODE=$("$ROOT/tests/clients/run" install | tail -n 1)
[ -x "$NODE" ] || {
    echo "no Node (tests/clients/run install failed)"
    exit 1
}
cat >"$TMP/limits.json" <<'EOF'
{"principals": {
  "rate-low": {"rate-create-per-s": 1, "rate-create-burst": 1, "rate-read-per-s": 1,
               "rate-read-burst": 1, "rate-other-per-s": 1, "rate-other-burst": 1},
  "cap-low": {"max-listen-streams": 1, "max-sync-calls": 1},
  "live-low": {"max-live-tasks": 1}}}
EOF
export TASKWIRE_LIMITS_FILE=$TMP/limits.json
fault_up 2 2
START=$(date +%s)

# ---- the principals, their tokens and the secrets no log may hold ----
declare -A TOK
for p in alice bob mallory rate-low cap-low live-low; do TOK[$p]=$(token "$p"); done
tokens_json() {
    local p
    for p in "${!TOK[@]}"; do jq -n --arg k "$p" --arg v "${TOK[$p]}" '{($k): $v}'; done | jq -s add
}
SECRETS=("$(cat "$SD/redis-password")" "$(cat "$SD/state-key")" "$(cat "$SD/fabric/frontend.secret")"
    "$(cat "$SD/fabric/worker.secret")" "$(jq -r .d "$SD/dev-key.jwk")" "${TOK[@]}")
CTX=$TMP/ctx.json
printf '%s\n' "${SECRETS[@]}" | jq -R . | jq -s . >"$TMP/secrets.json"
jq -n --argjson base "$BASE" --argjson tokens "$(tokens_json)" --arg key "$SD/dev-key.jwk" \
    --arg aud "$PROXY" --slurpfile secrets "$TMP/secrets.json" '{base: $base, tokens: $tokens,
    keyFile: $key, issuer: "taskwire-dev", audience: $aud, secrets: $secrets[0], alice: {}}' >"$CTX"

# ---- alice's tasks: completed, running, waiting for input, an MRTR round; a 2025 session ----
check "setup: alice's tasks and session made" "$NODE" "$HERE/front.mjs" setup "$CTX" "$TMP/alice.json"
DONE_ID=$(jq -r .done "$TMP/alice.json")
RUN_ID=$(jq -r .running "$TMP/alice.json")
INPUT_ID=$(jq -r .input "$TMP/alice.json")
check "setup: alice's echo task completes" wait_for 20 db_status_is "$DONE_ID" completed
check "setup: alice's long sleep task runs" wait_for 20 db_status_is "$RUN_ID" running
check "setup: alice's confirm_delete task waits for input" wait_for 20 db_status_is "$INPUT_ID" input_required
MRTR_ID=$(psql_q "SELECT id FROM tasks WHERE owner = 'alice' AND tool = 'test_input_required_result_request_state'")
check "setup: alice's MRTR round has its task" wait_for 20 db_status_is "${MRTR_ID:-none}" input_required
jq --slurpfile a "$TMP/alice.json" --arg m "$MRTR_ID" '.alice = ($a[0] + {mrtrTask: $m})' "$CTX" >"$CTX.new" &&
    mv "$CTX.new" "$CTX"
RUN_WORKER=$(psql_q "SELECT worker_id FROM tasks WHERE id = '$RUN_ID'")
RUN_ADMIN=$(worker_admin "${RUN_WORKER#worker-}")

# Alice's rows, every column a request could change (progress and lease are the tool's own).
snapshot_alice() {
    psql_q "SELECT id, tool, args, status, result, error, input_requests, input_responses, attempt,
            max_attempts, worker_id, claim, created_at, ttl_ms, expires_at, client_caps
            FROM tasks WHERE owner = 'alice' ORDER BY id"
}
snapshot_alice >"$TMP/alice.before"
check "setup: alice has 4 task rows" [ "$(wc -l <"$TMP/alice.before")" = 4 ]
psql_q "SELECT id FROM tasks ORDER BY id" >"$TMP/ids.before"

# ---- the front door and the admin ports ----
echo "# front door and admin ports (tests/attack/front.mjs)"
"$NODE" "$HERE/front.mjs" cases "$CTX" "$TMP/front.json" | tee "$TMP/front.out"
NODE_RC=${PIPESTATUS[0]}
PASSED=$((PASSED + $(grep -c '^ok ' "$TMP/front.out")))
FAILED=$((FAILED + $(grep -c '^FAIL ' "$TMP/front.out")))
check "front.mjs ran to its end (exit $NODE_RC)" grep -qE '^[0-9]+ passed, [0-9]+ failed$' "$TMP/front.out"

# ---- Redis ----
echo "# Redis"
RPORT=$((BASE + 41))
RPASS=$(cat "$SD/redis-password")
rcli() { REDISCLI_AUTH=$RPASS redis-cli --no-auth-warning -h 127.0.0.1 -p "$RPORT" "$@" 2>&1; }
anon() { redis-cli -h 127.0.0.1 -p "$RPORT" "$@" 2>&1; }
check "redis: PING without the password is refused (NOAUTH)" contains "$(anon PING)" NOAUTH
check "redis: PUBLISH without the password is refused (NOAUTH)" \
    contains "$(anon PUBLISH taskwire:task-events "cancel $RUN_ID")" NOAUTH
check "redis: SUBSCRIBE without the password is refused (NOAUTH)" \
    contains "$(timeout 5 redis-cli -h 127.0.0.1 -p "$RPORT" SUBSCRIBE taskwire:task-events 2>&1)" NOAUTH
check "redis: a wrong password is refused (WRONGPASS)" \
    contains "$(REDISCLI_AUTH=not-the-password redis-cli --no-auth-warning -h 127.0.0.1 -p "$RPORT" PING 2>&1)" WRONGPASS
check "redis: a guessed ACL user is refused" \
    contains "$(anon AUTH admin "$RPASS")" WRONGPASS
KEPT='taskwire_cancel_events_total{verdict="kept"}'
STOPPED='taskwire_cancel_events_total{verdict="stopped"}'
K0=$(metric "$RUN_ADMIN" "$KEPT")
S0=$(metric "$RUN_ADMIN" "$STOPPED")
check "redis: a forged 'cancel <alice's running task>' reaches subscribers" \
    [ "$(rcli PUBLISH taskwire:task-events "cancel $RUN_ID")" -ge 1 ]
kept_grew() { [ "$(metric "$RUN_ADMIN" "$KEPT")" -ge "$1" ]; }
check "redis: $RUN_WORKER re-read the row and kept the run (verdict kept, 10 s)" \
    wait_for 10 kept_grew $((K0 + 1))
for _ in $(seq 1 20); do rcli PUBLISH taskwire:task-events "cancel $RUN_ID" >/dev/null; done
# A burst is coalesced (one flag per slot, read by the heartbeat thread): at most one read
# per event, at least one for the burst.
check "redis: a burst of 20 forged cancels is re-read (kept again, 10 s)" wait_for 10 kept_grew $((K0 + 2))
check "redis: ... with at most one read per event" [ "$(metric "$RUN_ADMIN" "$KEPT")" -le $((K0 + 21)) ]
check "redis: no forged cancel stopped anything on $RUN_WORKER" \
    [ "$(metric "$RUN_ADMIN" "$STOPPED")" = "$S0" ]
check "redis: alice's task still runs, attempt 1, on $RUN_WORKER" \
    [ "$(row "$RUN_ID")" = "running 1 $RUN_WORKER true" ]
check "redis: the worker logged why it kept the run" \
    bash -c "grep -F 'cancel event ignored' '$LOGS/$RUN_WORKER.log' | grep -qF '$RUN_ID'"
for id in "$DONE_ID" "$INPUT_ID"; do
    rcli PUBLISH taskwire:task-events "cancel $id" >/dev/null
    rcli PUBLISH taskwire:task-events "changed $id" >/dev/null
done
check "redis: forged change and cancel events for alice's other tasks change no row" \
    [ "$(snapshot_alice | md5sum)" = "$(md5sum <"$TMP/alice.before")" ]
GARBAGE=("" "cancel" "cancel " "changed" "cancel not-a-uuid" "cancel $RUN_ID trailing"
    "cancel $(head -c 65536 /dev/zero | tr '\0' 'x')" "$(printf '\xff\xfe\x00\x01')" "tools x"
    "prompts $(printf 'a%.0s' $(seq 1 300))" "cancel ../../../etc/passwd" "changed $RUN_ID$RUN_ID"
    "CANCEL $RUN_ID" "$(printf 'cancel\t%s' "$RUN_ID")")
n=0
for g in "${GARBAGE[@]}"; do
    r=$(rcli PUBLISH taskwire:task-events "$g")
    [ "$r" -ge 1 ] 2>/dev/null && n=$((n + 1))
done
check "redis: ${#GARBAGE[@]} garbage payloads published to the event channel" [ "$n" = "${#GARBAGE[@]}" ]
rcli PUBLISH taskwire:other-channel "cancel $RUN_ID" >/dev/null
after_garbage() { name_alive frontend-1 && name_alive frontend-2 && name_alive worker-1 && name_alive worker-2; }
check "redis: every frontend and worker survived the garbage" after_garbage
check "redis: alice's task still runs afterwards" [ "$(row "$RUN_ID")" = "running 1 $RUN_WORKER true" ]
# What a subscriber learns while bob runs a task: kinds and ids only.
NSUB=$(rcli PUBSUB NUMSUB taskwire:task-events | sed -n 2p)
timeout 4 env REDISCLI_AUTH="$RPASS" redis-cli --no-auth-warning -h 127.0.0.1 -p "$RPORT" \
    SUBSCRIBE taskwire:task-events >"$TMP/sub.out" 2>&1 &
SUB=$!
BG_PIDS+=("$SUB")
sub_ready() { [ "$(rcli PUBSUB NUMSUB taskwire:task-events | sed -n 2p)" -gt "$NSUB" ] 2>/dev/null; }
check "redis: an authenticated subscriber joined the event channel" wait_for 3 sub_ready
call_task "$PROXY" "${TOK[bob]}" echo '{"text":"bob-private-argument-7f3a"}'
BOB_TASK=$TASK_ID
wait_for 10 db_status_is "${BOB_TASK:-none}" completed
wait "$SUB"
check "redis: the subscriber saw bob's task's events" grep -qF "changed ${BOB_TASK:-none}" "$TMP/sub.out"
check "redis: no event carries an owner or an argument" \
    bash -c "! grep -qE 'bob|7f3a' '$TMP/sub.out'"

# ---- the fabric ----
echo "# fabric"
SERVER_KEY=$(cat "$SD/fabric/frontend.public")
FE_ADMIN() { echo "http://127.0.0.1:$((BASE + 10 + $1))"; }
REFUSED='taskwire_fabric_handshakes_total{outcome="refused"}'
R0=("$(metric "$(FE_ADMIN 1)" "$REFUSED")" "$(metric "$(FE_ADMIN 2)" "$REFUSED")")
for f in 1 2; do
    "$ROGUE" pull "tcp://127.0.0.1:$((BASE + 20 + f))" 5000 >"$TMP/plain-$f.out" 2>&1 &
    BG_PIDS+=($!)
    "$ROGUE" pull "tcp://127.0.0.1:$((BASE + 20 + f))" 5000 "$SERVER_KEY" >"$TMP/curve-$f.out" 2>&1 &
    BG_PIDS+=($!)
done
ROGUES=("${BG_PIDS[@]: -4}")
FAB_IDS=()
for i in $(seq 1 12); do
    call_task "$PROXY" "${TOK[bob]}" echo "{\"text\":\"fabric job $i\"}"
    FAB_IDS+=("${TASK_ID:-none}")
done
fab_done() {
    [ "$(psql_q "SELECT count(*) FROM tasks WHERE id IN ($(printf "'%s'," "${FAB_IDS[@]}" | sed 's/,$//'))
                 AND status = 'completed'" 2>/dev/null)" = 12 ]
}
check "fabric: bob's 12 tasks complete on the stack's workers meanwhile" wait_for 30 fab_done
wait "${ROGUES[@]}"
for f in 1 2; do
    check "fabric: a plain PULL socket on frontend-$f received nothing" [ "$(cat "$TMP/plain-$f.out")" = received=0 ]
    check "fabric: a CURVE PULL socket with an unlisted key on frontend-$f received nothing" \
        [ "$(cat "$TMP/curve-$f.out")" = received=0 ]
    refused_grew() { [ "$(metric "$(FE_ADMIN "$1")" "$REFUSED")" -gt "${R0[$(($1 - 1))]}" ]; }
    check "fabric: frontend-$f counted the refused handshake" wait_for 5 refused_grew "$f"
done
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
FPIDS=("$(stack_pid frontend-1)" "$(stack_pid frontend-2)")
RSS0=("$(rss_kb "${FPIDS[0]}")" "$(rss_kb "${FPIDS[1]}")")
# ZMTP 3.0 greetings (64 bytes: signature, version, a 20-byte mechanism name, as-server, filler).
zeros() { printf "%0$(($1 * 2))d" 0; }
ZMTP3_NULL=ff00000000000000017f0300$(printf NULL | od -An -tx1 | tr -d ' \n')$(zeros 16)00$(zeros 31)
ZMTP3_CURVE=ff00000000000000017f0300$(printf CURVE | od -An -tx1 | tr -d ' \n')$(zeros 15)00$(zeros 31)
declare -A FRAMES=(
    ["the 10-byte frame of the exposure report"]=ff47745ac781f9ea0700
    ["a frame declaring 4 GiB"]=ff0000000100000000000102030405060708090a0b0c0d0e0f
    ["a truncated greeting"]=ff00000000
    ["a ZMTP 3 greeting with the NULL mechanism, then a 2^62-byte frame"]="${ZMTP3_NULL}063fffffffffffffff"
    ["a ZMTP 3 CURVE greeting, then a truncated HELLO"]="${ZMTP3_CURVE}04ff0548454c4c4f0100"
    ["32 KiB of random bytes"]=$(head -c 32768 /dev/urandom | od -An -tx1 | tr -d ' \n')
    ["an HTTP request"]=$(printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' | od -An -tx1 | tr -d ' \n')
)
for name in "${!FRAMES[@]}"; do
    for f in 1 2; do
        check "fabric: $name reaches frontend-$f" \
            "$ROGUE" frame 127.0.0.1 $((BASE + 20 + f)) "${FRAMES[$name]}"
    done
done
for f in 1 2; do
    pid=${FPIDS[$((f - 1))]}
    check "fabric: frontend-$f is alive after the frames" pid_alive "$pid"
    check "fabric: frontend-$f is ready" http_ok "$(FE_ADMIN "$f")/readyz"
    grown=$(($(rss_kb "$pid") - ${RSS0[$((f - 1))]}))
    echo "# frontend-$f RSS grew by $grown KiB"
    check "fabric: frontend-$f memory did not grow (< 8 MiB)" [ "$grown" -lt 8192 ]
done
# Garbage envelopes and a forged job for alice's running task, sent (with the frontends' own
# key, as a compromised frontend could) to an extra worker that listens to nothing else.
snapshot worker-1
XADMIN="http://127.0.0.1:$((BASE + 39))"
EP="tcp://127.0.0.1:$((BASE + 45))"
XPID=$(respawn worker-9 worker-1 "TASKWIRE_FABRIC_CONNECT=$EP" \
    "TASKWIRE_ADMIN_LISTEN=127.0.0.1:$((BASE + 39))" TASKWIRE_WORKER_ID=worker-9 \
    TASKWIRE_IDLE_POLL_MS=60000)
check "fabric: extra worker-9 started (pid ${XPID:-none})" wait_for 20 http_ok "$XADMIN/readyz"
RUN_ARGS=$(psql_q "SELECT args::text FROM tasks WHERE id = '$RUN_ID'")
FABRIC_INJECT_SECRET_KEY_FILE=$SD/fabric/frontend.secret \
    timeout 60 "$INJECT" "$EP" "$RUN_ID" mallory sleep "$RUN_ARGS" 3 >"$TMP/inject.out" 2>"$TMP/inject.err"
IRC=$?
cat "$TMP/inject.err"
NBAD=$(sed -n 's/^malformed=\([0-9]*\).*/\1/p' "$TMP/inject.out")
check "fabric: the injector sent its garbage and 3 forged jobs (exit $IRC: $(cat "$TMP/inject.out"))" \
    all_of "[ $IRC = 0 ]" "[ ${NBAD:-0} -ge 10 ]"
dropped() { [ "$(metric "$XADMIN" taskwire_fabric_envelopes_dropped_total)" -ge "${NBAD:-1}" ]; }
check "fabric: worker-9 dropped every malformed envelope (>= ${NBAD:-?})" wait_for 10 dropped
missed() { [ "$(metric "$XADMIN" taskwire_claims_missed_total)" -ge 3 ]; }
check "fabric: the 3 forged jobs for alice's running task lost the claim" wait_for 10 missed
not_started_on_9() { ! grep -F '"msg":"task started"' "$LOGS/worker-9.log" | grep -qF "\"task_id\":\"$RUN_ID\""; }
check "fabric: worker-9 started nothing of alice's" not_started_on_9
check "fabric: alice's task still runs on $RUN_WORKER, attempt 1" \
    [ "$(row "$RUN_ID")" = "running 1 $RUN_WORKER true" ]
check "fabric: worker-9 is alive" pid_alive "$XPID"

# ---- the tools manifest ----
echo "# tools manifest"
MF=$TMP/manifests
mkdir -p "$MF"
good_tool='{"name":"t1","description":"d","inputSchema":{"type":"object"},"argv":["/bin/true"]}'
printf '{"tools": [' >"$MF/invalid-json.json"
printf '[]' >"$MF/not-an-object.json"
printf '{"tools": [{"name":"t1","description":"d","inputSchema":{"type":5},"argv":["/bin/true"]}]}' >"$MF/bad-type.json"
# shellcheck disable=SC2016 # a JSON Schema $ref, not a shell expansion
printf '{"tools": [{"name":"t1","description":"d","inputSchema":{"type":"object","properties":{"a":{"$ref":"#/$defs/none"}}},"argv":["/bin/true"]}]}' >"$MF/bad-ref.json"
printf '{"tools": [{"name":"t1","description":"d","inputSchema":{"type":"object","properties":{"a":{"pattern":"(("}}},"argv":["/bin/true"]}]}' >"$MF/bad-pattern.json"
printf '{"tools": [%s, %s]}' "$good_tool" "$good_tool" >"$MF/duplicate.json"
printf '{"tools": [{"name":"echo","description":"d","inputSchema":{"type":"object"},"argv":["/bin/true"]}]}' >"$MF/builtin-name.json"
printf '{"tools": [{"name":"bad name!","description":"d","inputSchema":{"type":"object"},"argv":["/bin/true"]}]}' >"$MF/bad-name.json"
printf '{"tools": [{"name":"t1","description":"d","inputSchema":{"type":"object"},"argv":[]}]}' >"$MF/empty-argv.json"
printf '{"tools": [{"name":"t1","description":"d","inputSchema":{"type":"object"},"argv":["/bin/true"],"shell":true}]}' >"$MF/unknown-key.json"
printf '{"tools": [{"name":"t1","description":"d","inputSchema":{"type":"object"},"argv":["/etc/passwd"]}]}' >"$MF/not-a-program.json"
{
    printf '{"tools": [{"name":"t1","description":"d","inputSchema":'
    printf '{"type":"object","properties":{"a":%.0s' $(seq 1 3000)
    printf '{}'
    printf '}}%.0s' $(seq 1 3000)
    printf ',"argv":["/bin/true"]}]}'
} >"$MF/deep-schema.json"
printf '{"tools": [%s]}\0' "$good_tool" >"$MF/nul-byte.json"
{
    head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' ' '
    printf '{"tools": []}'
} >"$MF/huge.json"
mkfifo "$MF/fifo.json"
mkdir "$MF/folder.json"
ln -s /dev/zero "$MF/device.json"
# start_with ROLE FILE: start a frontend or worker (the environment of the stack's first one,
# on spare ports, no fabric peers) with FILE as its manifest; sets RC and OUT (its output).
snapshot frontend-1
start_with() {
    local role=$1 file=$2 src
    local -a envv cmd over
    if [ "$role" = frontend ]; then
        src=frontend-1
        over=("TASKWIRE_LISTEN=127.0.0.1:$((BASE + 46))" "TASKWIRE_ADMIN_LISTEN=127.0.0.1:$((BASE + 47))"
            "TASKWIRE_FABRIC_BIND=tcp://127.0.0.1:$((BASE + 48))")
    else
        src=worker-1
        over=("TASKWIRE_ADMIN_LISTEN=127.0.0.1:$((BASE + 49))" "TASKWIRE_FABRIC_CONNECT=tcp://127.0.0.1:$((BASE + 48))"
            TASKWIRE_WORKER_ID=worker-manifest TASKWIRE_IDLE_POLL_MS=60000)
    fi
    mapfile -d '' -t envv <"$TMP/$src.environ"
    mapfile -d '' -t cmd <"$TMP/$src.cmdline"
    OUT=$(timeout 30 env -i "${envv[@]}" "${over[@]}" "TASKWIRE_TOOLS_MANIFEST=$file" "${cmd[@]}" 2>&1 </dev/null)
    RC=$?
}
# refused_with NAME: the start failed with exit 3, an error line names the manifest NAME, and
# the output holds no sanitizer report (leaks at exit included).
refused_with() {
    [ "$RC" = 3 ] && contains "$MSG" "$1" &&
        ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: .*Sanitizer' <<<"$OUT"
}
for file in invalid-json not-an-object bad-type bad-ref bad-pattern duplicate builtin-name bad-name \
    empty-argv unknown-key not-a-program deep-schema nul-byte huge fifo folder device; do
    for role in frontend worker; do
        t0=$(now_ms)
        start_with "$role" "$MF/$file.json"
        ms=$(($(now_ms) - t0))
        MSG=$(grep -F '"level":"error"' <<<"$OUT" | grep -F "tools manifest" | head -n 1)
        check "manifest: a $role refuses $file.json at start (exit 3 in $ms ms, a message naming the manifest, no sanitizer report)" \
            refused_with "$file.json"
        [ "$RC" = 3 ] || echo "#   exit $RC; output: $(tail -n 3 <<<"$OUT" | cut -c1-300)"
    done
done

# ---- afterwards ----
echo "# invariants"
check "no row of alice changed" [ "$(snapshot_alice | md5sum)" = "$(md5sum <"$TMP/alice.before")" ]
check "alice has no new row" [ "$(psql_q "SELECT count(*) FROM tasks WHERE owner = 'alice'")" = 4 ]
# Rows made during the cases, by owner: exactly those the cases' successful requests made.
new_rows() {
    psql_q "SELECT count(*) FROM tasks WHERE owner = '$1' AND id::text NOT IN
            ($(sed "s/.*/'&'/" "$TMP/ids.before" | paste -sd, -))"
}
for owner in mallory rate-low cap-low live-low; do
    want=$(jq -r --arg o "$owner" '.rows[$o] // 0' "$TMP/front.json" 2>/dev/null)
    check "$owner has exactly the ${want:-?} row(s) its accepted requests made" \
        [ "$(new_rows "$owner")" = "${want:-none}" ]
done
check "bob has his 13 rows (1 for the event check, 12 for the fabric)" [ "$(new_rows bob)" = 13 ]
check "no task row of any owner is half-written (terminal without outcome, running without worker)" \
    [ "$(psql_q "SELECT count(*) FROM tasks WHERE (status IN ('completed','failed') AND result IS NULL
                 AND error IS NULL) OR (status = 'running' AND (worker_id IS NULL OR claim IS NULL))")" = 0 ]
"$STACK" status >"$TMP/status.out" 2>&1
cat "$TMP/status.out"
check "every process of the stack still runs (stack status)" \
    all_of "[ \$(wc -l <'$TMP/status.out') -ge 7 ]" "! grep -q ' down\$' '$TMP/status.out'"
for n in frontend-1 frontend-2 worker-1 worker-2 worker-9 proxy redis; do
    check "$n is alive" name_alive "$n"
done
check "no sanitizer report in any log so far" \
    bash -c "! grep -lE 'ERROR: (Address|Leak)Sanitizer|runtime error:|SUMMARY: .*Sanitizer' '$LOGS'/*.log"
mapfile -t SENT < <(jq -r '.tokens[]' "$TMP/front.json" 2>/dev/null)
ALL=("${SECRETS[@]}" "${SENT[@]}")
leaks=0
for s in "${ALL[@]}"; do
    [ "${#s}" -ge 16 ] || continue
    if grep -rqF -- "$s" "$LOGS"/ 2>/dev/null; then
        leaks=$((leaks + 1))
        echo "# a secret of ${#s} characters (starting ${s:0:6}) is in: $(grep -rlF -- "$s" "$LOGS"/ | head -3 | tr '\n' ' ')"
    fi
done
check "no secret in any log (${#ALL[@]} checked: ${#SENT[@]} bearer tokens sent, the Redis password, the state key, the fabric and signing keys)" \
    [ "$leaks" = 0 ]
echo "# cases ran in $(($(date +%s) - START)) s"
fault_finish
