#!/usr/bin/env bash
# Cost-model accuracy (issue 6): calibrate, then `parm validate` a grid (every schedule predicted, run for real
# and compared) on 2 local ranks (resources/grids/cpu-grid.json, 48 configurations) and on an emulated 2-node x
# 2-rank cluster (resources/grids/cluster-grid.json, 32 configurations) at 1, 2.5 and 10 Gbit/s, each with a
# calibration made on that setting. Needs root for the cluster. Writes OUT/<setting>.json (the validate
# reports) and prints one summary line per setting. Not a test: about 15 minutes on 2 cores.
# Usage: [REPEAT=K] bench/model_accuracy.sh [OUT] [SETTING...]   settings: local2 1gbit 2.5gbit 10gbit
# (default: all). The summary line counts a choice inside the measured-best set (tied within noise) as right
# and says how many layers were ties and how many choices were right only thanks to one.
set -euo pipefail
cd "$(dirname "$0")/.."
parm=${PARM:-build/engine/parm}
out=${1:-build/accuracy}
shift || true
settings=("$@")
repeat=${REPEAT:-1}  # REPEAT=K: every configuration measured K times, interleaved (parm validate --repeat)
((${#settings[@]})) || settings=(local2 1gbit 2.5gbit 10gbit)
mkdir -p "$out"

num() {  # the last top-level number field NAME of a pretty-printed report (2-space indent)
  grep -o "^  \"$2\": [0-9.e+-]*" "$1" | tail -1 | cut -d' ' -f4
}

summary() {  # the report's headline numbers; a choice inside the measured-best set counts as right
  local f=$1
  printf '%-8s mean error %s%%, selection accuracy %s (%s of %s right; %s measured best ties, %s right only by a tie), regret mean %s, run-to-run spread mean %s (--repeat %s)\n' \
    "$2" "$(num "$f" mean_error_pct)" "$(num "$f" selection_accuracy)" "$(num "$f" selection_correct)" \
    "$(num "$f" configurations)" "$(num "$f" measured_ties)" "$(num "$f" correct_by_tie)" \
    "$(grep -A2 '^  "regret": {' "$f" | grep -o '"mean": [0-9.e+-]*' | tail -1 | cut -d' ' -f2)" \
    "$(grep -A2 '^  "run_to_run": {' "$f" | grep -o '"mean_relative_range": [0-9.e+-]*' | tail -1 | cut -d' ' -f2)" \
    "$repeat"
}

for s in "${settings[@]}"; do
  if [[ $s == local2 ]]; then
    cat >"$out/local2-config.json" <<'J'
{"name":"local2","layer":{"batch":2,"seq_len":128,"hidden":128,"ffn_hidden":512,"num_experts":4,"top_k":2},
 "parallel":{"ranks":2,"gpus_per_node":2,"mp":1,"esp":1}}
J
    "$parm" calibrate "$out/local2-config.json" --out "$out/cal-local2.json" >/dev/null
    "$parm" validate resources/grids/cpu-grid.json --ranks 2 --calibration "$out/cal-local2.json" \
      --db "$out/accuracy.sqlite" --repeat "$repeat" --json >"$out/local2.json"
  else
    "$parm" cluster down --name acc >/dev/null 2>&1 || true
    "$parm" cluster up --nodes 2 --ranks-per-node 2 --inter-bandwidth "$s" --name acc >/dev/null
    trap '"$parm" cluster down --name acc >/dev/null 2>&1 || true' EXIT
    "$parm" calibrate resources/presets/default.json --cluster acc --out "$out/cal-$s.json" >/dev/null
    "$parm" validate resources/grids/cluster-grid.json --cluster acc --calibration "$out/cal-$s.json" \
      --db "$out/accuracy.sqlite" --repeat "$repeat" --json >"$out/$s.json"
    "$parm" cluster down --name acc >/dev/null
    trap - EXIT
  fi
  summary "$out/$s.json" "$s"
done
