#!/usr/bin/env bash
# check_names.sh - every taskwire_* metric that the alerts (prometheusrule.yaml) and the
# Grafana dashboard (grafana-dashboard.json) of deploy/k8s/components/monitoring query is a
# metric family of the given scrapes (a histogram's _bucket, _sum and _count count as its
# family).  Prints each unknown name; exits 1 if there is any.
# Usage: tests/monitoring/check_names.sh SCRAPE_FILE...
# SPDX-License-Identifier: Apache-2.0
set -euo pipefail
dir=$(cd "$(dirname "$0")/../../deploy/k8s/components/monitoring" && pwd)
[ $# -gt 0 ] || {
    echo "usage: $0 SCRAPE_FILE..." >&2
    exit 2
}
known=$(awk '$1 == "#" && $2 == "TYPE" { print $3 }' "$@" | sort -u)
used=$({
    jq -r '.panels[].targets[].expr' "$dir/grafana-dashboard.json"
    grep -E '^\s+expr:|^\s{12,}[a-z(]' "$dir/prometheusrule.yaml"
} | grep -oE 'taskwire_[a-z_]+' | sed -E 's/_(bucket|sum|count)$//' | sort -u)
bad=0
for m in $used; do
    if ! grep -qxF "$m" <<<"$known"; then
        echo "check_names: $m is queried but no scrape exports it"
        bad=1
    fi
done
[ -n "$used" ] || {
    echo "check_names: no metric name found in the rules or the dashboard" >&2
    exit 1
}
echo "check_names: $(wc -w <<<"$used") metric name(s), all exported"
exit "$bad"
