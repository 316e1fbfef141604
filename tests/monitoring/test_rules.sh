#!/usr/bin/env bash
# test_rules.sh - the alerts of deploy/k8s/components/monitoring/prometheusrule.yaml: the
# rule groups are taken out of the PrometheusRule (its .spec), checked with
# `promtool check rules` and run against rules_test.yaml with `promtool test rules`.
# Usage: tests/monitoring/test_rules.sh [WORKDIR]
# SPDX-License-Identifier: Apache-2.0
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
work=${1:-$(mktemp -d)}
mkdir -p "$work"
command -v promtool >/dev/null || {
    echo "test_rules: promtool is missing (deploy/local/deps --tests installs prometheus)" >&2
    exit 2
}
python3 - "$root/deploy/k8s/components/monitoring/prometheusrule.yaml" "$work/rules.yaml" <<'PY'
import sys, yaml
with open(sys.argv[1]) as f:
    rule = yaml.safe_load(f)
assert rule["kind"] == "PrometheusRule", "not a PrometheusRule"
with open(sys.argv[2], "w") as f:
    yaml.safe_dump(rule["spec"], f, sort_keys=False)
PY
cp "$here/rules_test.yaml" "$work/rules_test.yaml"
promtool check rules "$work/rules.yaml"
promtool test rules "$work/rules_test.yaml"
