#!/bin/sh
# wordcount.sh - an external-process tool for taskwire: counts the words and lines of the
# "text" argument and returns them as structuredContent {words, lines}.
# Protocol (proto/tools-manifest.md): the arguments arrive as one JSON object on stdin;
# progress and the result go to stdout, one JSON object per line. Needs jq.
set -eu

# progress N TOTAL MESSAGE: one progress line.
progress() {
    jq -cn --argjson p "$1" --argjson t "$2" --arg m "$3" \
        '{progress: $p, total: $t, message: $m}'
}

# text: write the "text" argument to stdout, exactly (no newline added).
text() {
    printf '%s' "$args" | jq -j '.text'
}

args=$(cat)
if ! printf '%s' "$args" | jq -e '.text | type == "string"' >/dev/null 2>&1; then
    # The frontend validates arguments against the schema; this guards hand-made calls.
    jq -cn '{result: {content: [{type: "text", text: "\"text\" must be a string"}],
        isError: true}}'
    exit 0
fi

progress 0 2 "counting words"
words=$(text | wc -w | tr -d ' ')
progress 1 2 "counting lines"
# Lines as people count them: a last line without a newline counts too.
lines=$(text | awk 'END { print NR }')
progress 2 2 "done"

jq -cn --argjson w "$words" --argjson l "$lines" \
    'def n($k; $what): "\($k) \($what)\(if $k == 1 then "" else "s" end)";
     {result: {content: [{type: "text", text: "\(n($w; "word")), \(n($l; "line"))"}],
        structuredContent: {words: $w, lines: $l}}}'
