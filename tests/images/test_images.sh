#!/usr/bin/env bash
# test_images.sh - the container end-to-end test (ctest images.e2e, label "images").
#
# Builds the image with deploy/images/build into a container storage of its own, starts the
# local stack's PostgreSQL and Redis alone (deploy/local/stack up --stores-only), then runs
# everything else as containers on the host network, each with a read-only root file system
# (only /tmp is a tmpfs, as the emptyDir of the Kubernetes manifests), every capability
# dropped and no new privileges:
#   - two `taskwire migrate` containers at once (the advisory lock lets both succeed);
#   - a frontend and a worker container (user 10001, settings and secrets as files, the way
#     deploy/k8s mounts them), called through the frontend: a built-in tool from the host's
#     CLI, an external tool from the image's own CLI in a third container; the rows show the
#     worker container finished them;
#   - SIGTERM to both while one task can finish within the worker's grace and one cannot:
#     both containers must exit 0 within the grace period (measured), the first task
#     completed, the second handed back to the queue.
# Removes every container, the image and its storage, and stops the stack, whatever happens.
# Nothing is skipped: a missing tool or a failed step fails the test.
#
# Environment (tests/images/CMakeLists.txt): TASKWIRE_STACK_DIR, TASKWIRE_STACK_PORT_BASE
# (ports B+1, B+11, B+21, B+31 for the containers, B+40 and B+41 for PostgreSQL and Redis),
# TASKWIRE_BIN (the host's taskwire CLI, for keys and tokens), IMAGES_WORK (a work folder).
# SPDX-License-Identifier: Apache-2.0
# shellcheck source=../integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"

: "${TASKWIRE_STACK_DIR:?}" "${TASKWIRE_BIN:?}" "${IMAGES_WORK:?}"
BUILD_SCRIPT=$ROOT/deploy/images/build
STORE=$IMAGES_WORK/storage
TAG=e2e
REF=localhost/taskwire:$TAG
PREFIX=tw-e2e-$BASE # container names
HTTP=$((BASE + 1))
FE_ADMIN=$((BASE + 11))
FABRIC=$((BASE + 21))
WK_ADMIN=$((BASE + 31))
URL=http://127.0.0.1:$HTTP/mcp
GRACE_MS=8000
# The time the worker may take to stop, as terminationGracePeriodSeconds in deploy/k8s: its
# grace for running tasks, then the killGraceMs (5 s) of an external tool that does not end.
STOP_GRACE_MS=13000
IMAGE_LIMIT_BYTES=120000000

stopped=0
cleanup() {
    [ "$stopped" = 1 ] && return
    stopped=1
    if [ "${#PODMAN[@]}" -gt 0 ]; then
        "${PODMAN[@]}" ps -a --format '{{.Names}}' 2>/dev/null | grep "^$PREFIX-" |
            xargs -r "${PODMAN[@]}" rm --force --time 0 >/dev/null 2>&1
    fi
    "$BUILD_SCRIPT" --root "$STORE" --tag "$TAG" --clean >/dev/null 2>&1 ||
        echo "test_images: deploy/images/build --clean failed" >&2
    rm -rf -- "$STORE" "$RUNROOT"
    "$STACK" down >/dev/null 2>&1 || echo "test_images: stack down failed" >&2
    rm -rf -- "$TMP"
}
PODMAN=()
RUNROOT=''
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

mkdir -p "$IMAGES_WORK"
# A run killed by ctest's timeout leaves its containers, storage and stack behind.
"$STACK" down >/dev/null 2>&1 || true
read -r -a PODMAN <<<"$("$BUILD_SCRIPT" --root "$STORE" --print-podman)"
RUNROOT=${PODMAN[4]} # podman --root R --runroot RUNROOT ...
if [ -d "$STORE" ]; then
    "${PODMAN[@]}" rm --all --force --time 0 >/dev/null 2>&1 || true
    rm -rf -- "$STORE" "$RUNROOT"
fi

# ---- the image ----
build_image() {
    "$BUILD_SCRIPT" --root "$STORE" --tag "$TAG" >"$IMAGES_WORK/build.out" 2>"$IMAGES_WORK/build.log"
}
t0=$SECONDS
check "deploy/images/build builds $REF" build_image || {
    tail -n 30 "$IMAGES_WORK/build.log"
    finish
}
BUILD_S=$((SECONDS - t0))
echo "# image built in $BUILD_S s (base tarball cached in build/images: $(grep -c 'making the base' "$IMAGES_WORK/build.log") new)"
inspect() { "${PODMAN[@]}" image inspect --format "$1" "$REF"; }
SIZE=$(inspect '{{.Size}}')
echo "# image size: $SIZE bytes"
check "the image is smaller than 120 MB ($SIZE bytes)" between "$SIZE" 1 "$IMAGE_LIMIT_BYTES"
check "the image runs as the numeric user 10001:10001" [ "$(inspect '{{.Config.User}}')" = 10001:10001 ]
check "the entrypoint is tini (reaps orphans, forwards signals to the group)" \
    [ "$(inspect '{{json .Config.Entrypoint}}')" = '["/usr/bin/tini","-s","-g","--"]' ]
VERSION=$("$TASKWIRE_BIN" --version | awk '{print $2}')
check "the OCI version label is the project version ($VERSION)" \
    [ "$(inspect '{{index .Config.Labels "org.opencontainers.image.version"}}')" = "$VERSION" ]
is_commit() { [[ "$1" =~ ^[0-9a-f]{40}(-dirty)?$ ]]; }
check "the OCI revision label names a commit" \
    is_commit "$(inspect '{{index .Config.Labels "org.opencontainers.image.revision"}}')"

# ---- PostgreSQL and Redis from the local stack ----
stores_up() { "$STACK" up --stores-only >"$IMAGES_WORK/stack.out" 2>"$IMAGES_WORK/stack.log"; }
check "stack up --stores-only starts PostgreSQL and Redis" stores_up || {
    cat "$IMAGES_WORK/stack.log"
    finish
}
DSN=$(tail -n 1 "$IMAGES_WORK/stack.out")

# Secrets and settings as files, readable by the container user, as the Secret volumes of
# deploy/k8s are (defaultMode 0440 with fsGroup 10001 there).
mkdir -p "$TMP/secrets" "$TMP/jwks"
chmod 755 "$TMP" "$TMP/secrets" "$TMP/jwks"
printf '%s' "$DSN" >"$TMP/secrets/pg-dsn"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$TMP/secrets/state-key"
# The fabric's CURVE keys, as a deployment holds them: the frontends' secret and the admitted
# worker keys on the frontend, the frontends' public key and the worker's secret on the worker.
"$TASKWIRE_BIN" fabric-keygen --secret "$TMP/secrets/fabric-frontend.secret" \
    --public "$TMP/fabric-frontend.public" >/dev/null
"$TASKWIRE_BIN" fabric-keygen --secret "$TMP/secrets/fabric-worker.secret" \
    --public "$TMP/secrets/fabric-workers.list" >/dev/null
cp "$TASKWIRE_STACK_DIR/redis-password" "$TMP/secrets/redis-password"
chmod 644 "$TMP/secrets/fabric-frontend.secret" "$TMP/secrets/fabric-worker.secret" \
    "$TMP/secrets/redis-password"
keygen() { "$TASKWIRE_BIN" keygen --key "$TMP/dev-key.jwk" --jwks "$TMP/jwks/jwks.json" >/dev/null; }
check "a signing key and its JWKS for the frontend" keygen
chmod 644 "$TMP/secrets/pg-dsn" "$TMP/secrets/state-key" "$TMP/jwks/jwks.json"
TOKEN=$("$TASKWIRE_BIN" token --key "$TMP/dev-key.jwk" --issuer taskwire-e2e \
    --audience "$URL" alice)

# The flags every container gets: podman on this kernel needs the ulimits given; the rest is
# the securityContext of the Kubernetes manifests.
RUN=("${PODMAN[@]}" run --network host --ulimit nofile=1024:1024 --ulimit nproc=1024:1024
    --read-only --read-only-tmpfs=false --tmpfs "/tmp:rw,size=16m,mode=1777" --cap-drop ALL
    --security-opt no-new-privileges
    -v "$TMP/secrets:/etc/taskwire/secrets:ro" -e TASKWIRE_PG_DSN_FILE=/etc/taskwire/secrets/pg-dsn
    -e TASKWIRE_REDIS_PASSWORD_FILE=/etc/taskwire/secrets/redis-password)

# ---- migrations ----
"${RUN[@]}" --rm --name "$PREFIX-migrate-1" "$REF" taskwire migrate >"$TMP/m1.log" 2>&1 &
m1=$!
"${RUN[@]}" --rm --name "$PREFIX-migrate-2" "$REF" taskwire migrate >"$TMP/m2.log" 2>&1 &
m2=$!
wait "$m1"
rc1=$?
wait "$m2"
rc2=$?
check "two migration containers at once both exit 0 ($rc1, $rc2)" all_of "[ $rc1 = 0 ]" "[ $rc2 = 0 ]" ||
    cat "$TMP/m1.log" "$TMP/m2.log"
check "the migrations made the tasks table" [ "$(psql_q 'SELECT count(*) FROM tasks')" = 0 ]
check "the image's default user is not root (migration run without --user)" \
    [ "$("${RUN[@]}" --rm --entrypoint /usr/bin/id "$REF" -u)" = 10001 ]

# ---- frontend and worker ----
MANIFEST=/opt/taskwire/tools/manifest.json
check "the frontend container starts" \
    "${RUN[@]}" -d --name "$PREFIX-frontend" --user 10001:10001 \
    -v "$TMP/jwks:/etc/taskwire/jwks:ro" \
    -e TASKWIRE_LISTEN="127.0.0.1:$HTTP" -e TASKWIRE_ADMIN_LISTEN="127.0.0.1:$FE_ADMIN" \
    -e TASKWIRE_FABRIC_BIND="tcp://127.0.0.1:$FABRIC" -e TASKWIRE_REDIS_ADDR="127.0.0.1:$((BASE + 41))" \
    -e TASKWIRE_JWKS_FILE=/etc/taskwire/jwks/jwks.json -e TASKWIRE_AUTH_ISSUER=taskwire-e2e \
    -e TASKWIRE_AUTH_AUDIENCE="$URL" -e TASKWIRE_STATE_KEY_FILE=/etc/taskwire/secrets/state-key \
    -e TASKWIRE_TOOLS_MANIFEST="$MANIFEST" -e TASKWIRE_POLL_INTERVAL_MS=100 \
    -e TASKWIRE_FABRIC_SECRET_KEY_FILE=/etc/taskwire/secrets/fabric-frontend.secret \
    -e TASKWIRE_FABRIC_WORKER_KEYS_FILE=/etc/taskwire/secrets/fabric-workers.list \
    "$REF" taskwire-frontend >/dev/null
# One principal runs both countdown tasks at once: no slot is kept for other principals.
check "the worker container starts" \
    "${RUN[@]}" -d --name "$PREFIX-worker" --user 10001:10001 \
    -e TASKWIRE_FABRIC_CONNECT="tcp://127.0.0.1:$FABRIC" -e TASKWIRE_ADMIN_LISTEN="127.0.0.1:$WK_ADMIN" \
    -e TASKWIRE_REDIS_ADDR="127.0.0.1:$((BASE + 41))" -e TASKWIRE_WORKER_ID=e2e-container-worker \
    -e TASKWIRE_SLOTS=2 -e TASKWIRE_RESERVED_SLOTS=0 -e TASKWIRE_GRACE_MS="$GRACE_MS" \
    -e TASKWIRE_TOOLS_MANIFEST="$MANIFEST" \
    -e TASKWIRE_FABRIC_SERVER_KEY="$(cat "$TMP/fabric-frontend.public")" \
    -e TASKWIRE_FABRIC_SECRET_KEY_FILE=/etc/taskwire/secrets/fabric-worker.secret \
    "$REF" taskwire-worker >/dev/null

ready() { [ "$(curl -s -o /dev/null -m 2 -w '%{http_code}' "$1")" = 200 ]; }
if ! check "the frontend's admin /readyz answers 200" wait_for 60 ready "http://127.0.0.1:$FE_ADMIN/readyz" ||
    ! check "the worker's admin /readyz answers 200" wait_for 60 ready "http://127.0.0.1:$WK_ADMIN/readyz"; then
    "${PODMAN[@]}" logs "$PREFIX-frontend" 2>&1 | tail -n 20
    "${PODMAN[@]}" logs "$PREFIX-worker" 2>&1 | tail -n 20
    finish
fi
cexec() { "${PODMAN[@]}" exec "$PREFIX-worker" "$@"; }
check "tini is PID 1 of the worker container" [ "$(cexec cat /proc/1/comm)" = tini ]
check "the worker runs as uid 10001" [ "$(cexec id -u)" = 10001 ]
read_only() { ! cexec touch /opt/taskwire/x 2>/dev/null; }
check "the root file system is read-only" read_only
check "the worker holds no capabilities" \
    [ "$(cexec sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)" = 0000000000000000 ]

# ---- tasks through the frontend container ----
check "sleep through the frontend container completes (host CLI)" \
    "$TASKWIRE_BIN" call --url "$URL" --token "$TOKEN" --no-progress --timeout-s 60 \
    sleep seconds=1 steps=2
check "the worker container finished it" \
    [ "$(psql_q "SELECT status || ' ' || worker_id || ' ' || attempt FROM tasks WHERE tool = 'sleep'")" = \
    "completed e2e-container-worker 1" ]
out=$("${RUN[@]}" --rm --name "$PREFIX-cli" -e TASKWIRE_TOKEN="$TOKEN" "$REF" \
    taskwire call --url "$URL" --no-progress --timeout-s 60 wordcount text="to be or not to be" 2>&1)
rc=$?
check "the image's CLI calls an external tool run by the worker container (exit $rc)" \
    all_of "[ $rc = 0 ]" "contains \"\$out\" '6 words, 1 line'" || echo "$out"
check "the external tool's row was finished by the worker container" \
    [ "$(psql_q "SELECT status || ' ' || worker_id FROM tasks WHERE tool = 'wordcount'")" = \
    "completed e2e-container-worker" ]

# ---- SIGTERM within the grace period ----
call_task "$URL" "$TOKEN" countdown '{"seconds":3}'
SHORT=$TASK_ID
call_task "$URL" "$TOKEN" countdown '{"seconds":60}'
LONG=$TASK_ID
check "two countdown tasks created ($SHORT, $LONG)" all_of "[ -n \"$SHORT\" ]" "[ -n \"$LONG\" ]"
running() {
    [ "$(psql_q "SELECT count(*) FROM tasks WHERE id IN ('$SHORT', '$LONG') AND status = 'running'
        AND progress IS NOT NULL")" = 2 ]
}
check "both run in the worker container with progress" wait_for 20 running
# Stop both the way the kubelet does: SIGTERM to PID 1 (tini), which passes it on.
stop_time() { # stop_time NAME: prints "<exit code> <milliseconds>" after SIGTERM
    local t0 t1 code
    t0=$(date +%s%N)
    "${PODMAN[@]}" kill --signal TERM "$1" >/dev/null
    code=$("${PODMAN[@]}" wait "$1")
    t1=$(date +%s%N)
    echo "$code $(((t1 - t0) / 1000000))"
}
stop_time "$PREFIX-worker" >"$TMP/worker.stop" &
w=$!
stop_time "$PREFIX-frontend" >"$TMP/frontend.stop" &
f=$!
wait "$w" "$f"
read -r WK_CODE WK_MS <"$TMP/worker.stop"
read -r FE_CODE FE_MS <"$TMP/frontend.stop"
echo "# after SIGTERM: worker exited $WK_CODE in $WK_MS ms (task grace $GRACE_MS ms," \
    "stop grace $STOP_GRACE_MS ms), frontend exited $FE_CODE in $FE_MS ms"
check "the worker container exits 0 after SIGTERM" [ "$WK_CODE" = 0 ]
# Not before the task grace (the 60 s countdown held it), and before the stop grace is over.
check "the worker container waits out its task grace and exits within the stop grace ($WK_MS ms)" \
    between "$WK_MS" $((GRACE_MS - 500)) "$STOP_GRACE_MS"
check "the frontend container exits 0 after SIGTERM" [ "$FE_CODE" = 0 ]
check "the frontend container exits within 10 s ($FE_MS ms)" between "$FE_MS" 1 10000
check "the task that fits the grace completed in the worker container" \
    [ "$(psql_q "SELECT status || ' ' || worker_id || ' ' || attempt FROM tasks WHERE id = '$SHORT'")" = \
    "completed e2e-container-worker 1" ]
check "the task that does not fit went back to the queue, no attempt counted" \
    [ "$(psql_q "SELECT status || ' ' || coalesce(worker_id, '-') || ' ' || attempt FROM tasks WHERE id = '$LONG'")" = \
    "queued - 0" ]
last=$("${PODMAN[@]}" logs "$PREFIX-worker" 2>&1 | tail -n 1)
check "the worker logs JSON lines on stderr (the last: $last)" \
    jq -e 'has("ts") and has("level") and has("msg")' <<<"$last" >/dev/null

echo "# images.e2e: build $BUILD_S s, whole test $((SECONDS - t0)) s"
cleanup
finish
