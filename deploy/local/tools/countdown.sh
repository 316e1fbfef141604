#!/usr/bin/env bash
# countdown.sh - an external-process tool for taskwire: counts down "seconds" (1-3600), one
# progress line per second, then returns a result. On SIGTERM (cancel, timeout, worker
# shutdown) it stops its sleep and exits at once with status 143.
# Protocol (proto/tools-manifest.md): the arguments arrive as one JSON object on stdin;
# progress and the result go to stdout, one JSON object per line. Needs jq.
set -euo pipefail

sleeper=''

# Stop the sleep we are waiting for (if any) and leave.
on_term() {
    if [[ -n "$sleeper" ]]; then
        kill "$sleeper" 2>/dev/null || true
    fi
    exit 143
}
trap on_term TERM INT

# progress DONE TOTAL MESSAGE: one progress line.
progress() {
    jq -cn --argjson p "$1" --argjson t "$2" --arg m "$3" \
        '{progress: $p, total: $t, message: $m}'
}

seconds=$(jq -r '.seconds | select(type == "number" and . == floor and . >= 1 and . <= 3600)')
if [[ -z "$seconds" ]]; then
    # The frontend validates arguments against the schema; this guards hand-made calls.
    jq -cn '{result: {content: [{type: "text",
        text: "\"seconds\" must be an integer from 1 to 3600"}], isError: true}}'
    exit 0
fi

for ((left = seconds; left > 0; left--)); do
    progress $((seconds - left)) "$seconds" "$left s left"
    # Sleep in the background and wait for it, so a SIGTERM runs the trap at once.
    sleep 1 &
    sleeper=$!
    wait "$sleeper"
    sleeper=''
done
progress "$seconds" "$seconds" "done"

jq -cn --argjson s "$seconds" \
    '{result: {content: [{type: "text", text: "Counted down \($s) seconds."}],
        structuredContent: {seconds: $s}}}'
