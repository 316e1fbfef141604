# perf-summary.jq - the medians, spreads and ratios of tests/bench/perf's rounds.
# Input: every round (jq -s); output: {scenarios: {NAME: {median, min, max, rounds, ...}},
# ratios: {...}, table: [lines]}.
# SPDX-License-Identifier: Apache-2.0
def median: sort | .[length / 2 | floor];
# The figure a round is judged by: a rate, or a size; its latency: from create to tool
# start (dispatch), from cancel to the tool seeing it (cancel), else of the request.
def figure: .rate // .tasks_per_s // .e2e_per_s // .qps // .tps // .kib;
def lat(p): (.dispatch_us // .cancel_seen_us // .lat_us // {})[p];
def fmt: if . == null then "-" elif . >= 100 then (. | round | tostring)
    else ((. * 100 | round) / 100 | tostring) end;

(group_by(.scenario) | map({key: .[0].scenario, value: {
    median: (map(figure) | median),
    min: (map(figure) | min),
    max: (map(figure) | max),
    rounds: length,
    p50_ms: (map(lat("p50") // empty) | if length > 0 then median / 1000 else null end),
    p99_ms: (map(lat("p99") // empty) | if length > 0 then median / 1000 else null end)
}}) | from_entries) as $s
| def m(n): $s[n].median;
  def ratio(a; b): if m(a) and m(b) and m(b) > 0 then m(a) / m(b) else null end;
{
  scenarios: $s,
  ratios: {
    e2e_vs_pgbench_lifecycle: ratio("e2e"; "pgbench_lifecycle"),
    e2e_vs_graphile_worker: ratio("e2e"; "graphile_worker"),
    e2e_vs_pg_boss: ratio("e2e"; "pg_boss"),
    create_c8_vs_tpcb_c8: ratio("create_c8"; "pgbench_tpcb_c8"),
    create_c32_vs_tpcb_c32: ratio("create_c32"; "pgbench_tpcb_c32"),
    create_alone_c8_vs_tpcb_c8: ratio("create_alone_c8"; "pgbench_tpcb_c8"),
    create_alone_c32_vs_tpcb_c32: ratio("create_alone_c32"; "pgbench_tpcb_c32"),
    get_frontend_vs_pkread: ratio("get_frontend"; "pgbench_pkread"),
    get_proxy_vs_pkread: ratio("get_proxy"; "pgbench_pkread"),
    relaxed_vs_durable: ratio("e2e_relaxed"; "e2e"),
    slots16_vs_slots4: ratio("e2e_slots16"; "e2e")
  }
}
| .table = (
    ["| scenario | median | spread (min-max) | p50 ms | p99 ms | rounds |",
     "|---|---|---|---|---|---|"]
    + [.scenarios | to_entries[] | "| \(.key) | \(.value.median | fmt) | \(.value.min | fmt)-\(.value.max | fmt) | \(.value.p50_ms | fmt) | \(.value.p99_ms | fmt) | \(.value.rounds) |"]
    + ["", "| ratio | value |", "|---|---|"]
    + [.ratios | to_entries[] | "| \(.key) | \(.value | fmt) |"])
