# perf-summary.jq - the medians, spreads and ratios of tests/bench/perf's rounds.
# Input: every round (jq -s); output: {scenarios: {NAME: {median, min, max, rounds, ...}},
# paired: {NAME: {median, min, max, rounds}} (ratios of rounds run back to back),
# cost_ms: {postgres_ms, ...} (taskwire's CPU per task at half load, medians),
# cost_e2e_ms: the same at saturation (the e2e rounds' cpu),
# ratios: {...} (of the scenarios' medians), table: [lines]}.
# SPDX-License-Identifier: Apache-2.0
def median: sort | .[length / 2 | floor];
# The figure a round is judged by: a rate, or a size; its latency: from create to tool
# start (dispatch), from cancel to the tool seeing it (cancel), else of the request.
# CPU per task rounds (cost, pgbench_lifecycle_cost) are judged by PostgreSQL's ms per task.
def figure: .postgres_ms // .rate // .tasks_per_s // .e2e_per_s // .qps // .tps // .kib;
def lat(p): (.dispatch_us // .cancel_seen_us // .lat_us // {})[p];
def fmt: if . == null then "-" elif . >= 100 then (. | round | tostring)
    else ((. * 100 | round) / 100 | tostring) end;

. as $rounds
| (group_by(.scenario) | map({key: .[0].scenario, value: {
    median: (map(figure) | median),
    min: (map(figure) | min),
    max: (map(figure) | max),
    rounds: length,
    p50_ms: (map(lat("p50") // empty) | if length > 0 then median / 1000 else null end),
    p99_ms: (map(lat("p99") // empty) | if length > 0 then median / 1000 else null end)
}}) | from_entries) as $s
| def m(n): $s[n].median;
  # Medians of each kind's CPU per task over the CPU figures cs (cpu_per_task's), or null.
  def costs(cs): if (cs | length) == 0 then null else
      reduce ("postgres_ms", "frontends_ms", "workers_ms", "proxy_ms", "redis_ms", "total_ms")
      as $k ({}; .[$k] = ([cs[][$k]] | median)) end;
  def ratio(a; b): if m(a) and m(b) and m(b) > 0 then m(a) / m(b) else null end;
  # Paired: a's figure over b's in each round that has both (they ran back to back).
  def paired(a; b): [$rounds[] | select(.scenario == a)] as $xs
    | [$rounds[] | select(.scenario == b) | . as $y
       | ($xs[] | select(.round == $y.round) | figure) as $x
       | select(($y | figure) > 0) | $x / ($y | figure)]
    | if length > 0 then {median: median, min: min, max: max, rounds: length} else null end;
{
  scenarios: $s,
  paired: {
    e2e_vs_pgbench_lifecycle: paired("e2e"; "pgbench_lifecycle"),
    e2e_vs_graphile_worker: paired("e2e"; "graphile_worker"),
    e2e_vs_pg_boss: paired("e2e"; "pg_boss"),
    create_c8_vs_tpcb_c8: paired("create_c8"; "pgbench_tpcb_c8"),
    create_c32_vs_tpcb_c32: paired("create_c32"; "pgbench_tpcb_c32"),
    get_frontend_vs_pkread: paired("get_frontend"; "pgbench_pkread"),
    pg_cpu_per_task_lifecycle_over_taskwire: paired("pgbench_lifecycle_cost"; "cost")
  },
  # Where taskwire's CPU per task goes at half load (medians of the cost rounds, ms).
  cost_ms: costs([$rounds[] | select(.scenario == "cost")]),
  # The same at saturation: the e2e rounds' CPU per task.
  cost_e2e_ms: costs([$rounds[] | select(.scenario == "e2e") | .cpu // empty]),
  ratios: {
    create_alone_c8_vs_tpcb_c8: ratio("create_alone_c8"; "pgbench_tpcb_c8"),
    create_alone_c32_vs_tpcb_c32: ratio("create_alone_c32"; "pgbench_tpcb_c32"),
    get_proxy_vs_pkread: ratio("get_proxy"; "pgbench_pkread"),
    relaxed_vs_durable: ratio("e2e_relaxed"; "e2e"),
    slots16_vs_slots4: ratio("e2e_slots16"; "e2e")
  }
}
| .table = (
    ["| scenario | median | spread (min-max) | p50 ms | p99 ms | rounds |",
     "|---|---|---|---|---|---|"]
    + [.scenarios | to_entries[] | "| \(.key) | \(.value.median | fmt) | \(.value.min | fmt)-\(.value.max | fmt) | \(.value.p50_ms | fmt) | \(.value.p99_ms | fmt) | \(.value.rounds) |"]
    + ["", "| ratio (paired rounds) | median | spread (min-max) | rounds |", "|---|---|---|---|"]
    + [.paired | to_entries[] | "| \(.key) | \(.value.median | fmt) | \(.value.min | fmt)-\(.value.max | fmt) | \(.value.rounds // 0) |"]
    + ["", "| CPU per task, ms | postgres | frontends | workers | proxy | redis | all |",
       "|---|---|---|---|---|---|---|"]
    + [["at half load (cost)", .cost_ms], ["at saturation (e2e)", .cost_e2e_ms]
       | select(.[1]) | "| \(.[0]) | \(.[1] | [.postgres_ms, .frontends_ms, .workers_ms, .proxy_ms, .redis_ms, .total_ms] | map(fmt) | join(" | ")) |"]
    + ["", "| ratio (of medians) | value |", "|---|---|"]
    + [.ratios | to_entries[] | "| \(.key) | \(.value | fmt) |"])
