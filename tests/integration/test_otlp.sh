#!/usr/bin/env bash
# Span export (TASKWIRE_OTLP_ENDPOINT, set for the whole stack by the fixture): a loopback
# collector (otlp_receiver.py on BASE + 52) receives OTLP/HTTP JSON from a frontend and a
# worker; one traced tools/call yields, in the request's trace, the frontend's
# "POST tools/call" span (parent: the client's span), and the worker's "queue wait" and
# "tool run" spans (parent: the frontend's span, as tasks/get reports it), the "tool run"
# span being the parent the tool saw in TRACEPARENT.
# SPDX-License-Identifier: Apache-2.0
. "$(dirname "$0")/lib.sh"
TOK=$(token otlp)
PORT=$((BASE + 52))
TRACE_ID=5bf92f3577b34da6a3ce929d0e0e4799
CLIENT_SPAN=00f067aa0ba902b8
SPANS="$TMP/spans.jsonl"
python3 "$(dirname "$0")/otlp_receiver.py" "$PORT" "$SPANS" &
RECEIVER=$!
trap 'kill "$RECEIVER" 2>/dev/null; wait "$RECEIVER" 2>/dev/null; rm -rf "$TMP"' EXIT
listening() { curl -s -m 1 -o /dev/null "http://127.0.0.1:$PORT/"; }
check "the collector listens on 127.0.0.1:$PORT" wait_for 10 listening

RPC_ID=$((RPC_ID + 1))
BODY_IN=$(jq -cn --argjson m "$(meta)" --arg p "00-$TRACE_ID-$CLIENT_SPAN-01" --argjson id "$RPC_ID" \
    '{jsonrpc:"2.0",id:$id,method:"tools/call",
      params:{name:"traceinfo",arguments:{},_meta:($m + {traceparent:$p})}}')
raw "$PROXY" "$TOK" tools/call traceinfo "$BODY_IN"
ID=$(jbody '.result.taskId // empty')
check "a traced tools/call of traceinfo makes a task" [ -n "$ID" ]
check "it completes" wait_for 20 status_is "$FRONTEND_A" "$TOK" "$ID" completed
rpc "$FRONTEND_A" "$TOK" tasks/get "$(jq -cn --arg t "$ID" '{taskId:$t}')" "$ID"
FE_SPAN=$(jbody '.result._meta["dev.taskwire/trace"].traceparent' | cut -d- -f3)
TOOL_SPAN=$(jbody '.result.result.structuredContent.traceparent' | cut -d- -f3)
check "tasks/get names the frontend's span and the tool saw the worker's" \
    all_of "[ ${#FE_SPAN} = 16 ]" "[ ${#TOOL_SPAN} = 16 ]"

# spans NAME: the spans of the trace called NAME, one compact JSON object per line, with
# the service that sent them as .service.
spans() {
    jq -c --arg t "$TRACE_ID" --arg n "$1" '.resourceSpans[] |
        (.resource.attributes[] | select(.key == "service.name") | .value.stringValue) as $svc |
        .scopeSpans[].spans[] | select(.traceId == $t and .name == $n) | . + {service: $svc}' \
        "$SPANS" 2>/dev/null
}
exported() { [ -n "$(spans "tool run")" ] && [ -n "$(spans "POST tools/call")" ]; }
check "the spans arrive within 10 s" wait_for 10 exported
FE=$(spans "POST tools/call" | head -n 1)
WAIT=$(spans "queue wait" | head -n 1)
RUN=$(spans "tool run" | head -n 1)
check "POST tools/call: sent by taskwire-frontend, its span id is the task's parent, its parent the client's" \
    all_of "[ \"\$(jq -r .service <<<'$FE')\" = taskwire-frontend ]" \
    "[ \"\$(jq -r .spanId <<<'$FE')\" = '$FE_SPAN' ]" \
    "[ \"\$(jq -r .parentSpanId <<<'$FE')\" = '$CLIENT_SPAN' ]"
check "POST tools/call: status code 200 as an attribute" \
    [ "$(jq -r '.attributes[] | select(.key == "http.response.status_code") | .value.stringValue' <<<"$FE")" = 200 ]
check "tool run: sent by taskwire-worker, parent the frontend's span, the span the tool saw" \
    all_of "[ \"\$(jq -r .service <<<'$RUN')\" = taskwire-worker ]" \
    "[ \"\$(jq -r .parentSpanId <<<'$RUN')\" = '$FE_SPAN' ]" \
    "[ \"\$(jq -r .spanId <<<'$RUN')\" = '$TOOL_SPAN' ]"
check "tool run: names the tool" \
    [ "$(jq -r '.attributes[] | select(.key == "taskwire.tool") | .value.stringValue' <<<"$RUN")" = traceinfo ]
check "queue wait: a span of its own under the frontend's, ending where the run starts" \
    all_of "[ \"\$(jq -r .parentSpanId <<<'$WAIT')\" = '$FE_SPAN' ]" \
    "[ \"\$(jq -r .spanId <<<'$WAIT')\" != '$TOOL_SPAN' ]" \
    "[ \"\$(jq -r .endTimeUnixNano <<<'$WAIT')\" = \"\$(jq -r .startTimeUnixNano <<<'$RUN')\" ]"
ordered() {
    jq -e -s 'all(.[]; (.startTimeUnixNano | tonumber) <= (.endTimeUnixNano | tonumber))' \
        <<<"$FE$WAIT$RUN" >/dev/null
}
check "every span starts before it ends" ordered
sent() {
    curl -s -m 2 "http://127.0.0.1:$((BASE + 31))/metrics" "http://127.0.0.1:$((BASE + 32))/metrics" |
        awk '$1 == "taskwire_otlp_spans_total{result=\"sent\"}" { n += $2 } END { exit !(n > 0) }'
}
check "the workers count the spans they sent (taskwire_otlp_spans_total)" sent
finish
