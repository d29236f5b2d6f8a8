#!/usr/bin/env bash
# How stable the quick start's slow-link verdict is (issue 17): runs the cluster part of scripts/demo.sh
# (scripts/demo_cluster.sh: cluster up, quick calibration, validate the demo layer, cluster down) N times
# into a scratch project and prints per run the measured best, its speedup over B_DS with the p10-p90
# spread and whether it is clear of B_DS beyond noise (the two p10-p90 intervals do not overlap), then the
# min/median/max of the speedups over the runs. Needs root. Not a test: about 1 minute per run on 2 cores.
# Usage: bench/demo_stability.sh [N]   (default 5; PARM_DEMO_RATE / PARM_DEMO_LAYER as in demo_cluster.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
export PARM_DEMO_DB=${PARM_DEMO_DB:-build/demo-stability/project.sqlite}
source scripts/demo_cluster.sh
if [[ $(id -u) != 0 ]]; then
  echo "demo_stability: needs root (the emulated cluster uses network namespaces and tc)" >&2
  exit 1
fi
mkdir -p "$(dirname "$demo_db")"
demo_cluster_arm_cleanup
results=$(mktemp)
echo "demo layer $demo_layer, 2 nodes x 2 ranks, inter-node link $demo_rate, $runs runs; project $demo_db"
for ((i = 1; i <= runs; i++)); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  demo_cluster_validate >/dev/null
  demo_cluster_down
  "$parm" show --db "$demo_db" --run "$demo_cluster_run" --verdict --json |
    python3 -c '
import json, sys
v = json.load(sys.stdin)
s = v["best_speedup_vs_bds"] or {"p10": 0, "p50": 0, "p90": 0}
# Clear of noise: the p10-p90 intervals of the best and B_DS do not overlap (the speedup p10 is above 1).
clear = s["p10"] > 1
tied = [t for t in v["measured_tied"] if t != v["measured_best"]]
print("run %s: best %s %.2fx over B_DS (p10-p90 %.2f-%.2fx), %s%s, load %s (project run %d)" % (
    sys.argv[1], v["measured_best"], s["p50"], s["p10"], s["p90"],
    "clear of B_DS beyond noise" if clear else "within the noise of B_DS",
    "; tied within noise with " + ", ".join(tied) if tied else "", sys.argv[2], v["run"]))
print("%s %.4f %d" % (v["measured_best"], s["p50"], int(clear)), file=open(sys.argv[3], "a"))
' "$i" "$load" "$results"
done
python3 - "$results" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
x = sorted(float(r[1]) for r in rows)
best = {}
for r in rows: best[r[0]] = best.get(r[0], 0) + 1
print("speedup of the best over B_DS over %d runs: min %.2fx, median %.2fx, max %.2fx; clear of B_DS beyond noise in %d of %d; best: %s" % (
    len(x), x[0], statistics.median(x), x[-1], sum(int(r[2]) for r in rows), len(rows),
    ", ".join("%s %d" % kv for kv in sorted(best.items()))))
PY
rm -f "$results"
