#!/usr/bin/env bash
# Pipeline degree r (issue 19): on emulated clusters (2 x 2 and 2 x 4 ranks at 1 and 2.5 Gbit/s; root), for a
# layer whose expert compute and AlltoAll are comparable, calibrate on the cluster, then `parm validate
# --degrees 1,2,4,8` runs every schedule at every degree in one interleaved run and compares each with its
# prediction. Prints per setting: Parm's best (S1/S2/S1F/S2F at r = 1) and the selected option, both measured in
# the same run, the measured ratio, the model's predicted ratio, and every option's predicted vs measured
# time. Writes OUT/<setting>.json (validate) and OUT/cal-<setting>.json. Not a test: minutes per setting.
# Usage: bench/pipeline_degree.sh [OUT] [SETTING...]   settings: 2x2-1gbit 2x2-2.5gbit 2x4-1gbit 2x4-2.5gbit,
# optionally with an inter-node latency (2x4-1gbit-2ms). DEGREES (default 1,2,4,8) and ALLTOALL (default flat;
# flat,2dh adds the hierarchical AlltoAll) set the space.
set -euo pipefail
cd "$(dirname "$0")/.."
parm=${PARM:-build/engine/parm}
out=${1:-build/pipeline-degree}
shift || true
settings=("$@")
((${#settings[@]})) || settings=(2x2-1gbit 2x2-2.5gbit 2x4-1gbit 2x4-2.5gbit)
config=${CONFIG:-bench/pipeline_layer.json}
repeat=${REPEAT:-2}
degrees=${DEGREES:-1,2,4,8}
alltoall=${ALLTOALL:-flat}
mkdir -p "$out"
trap '"$parm" cluster down --name pipe >/dev/null 2>&1 || true' EXIT

for s in "${settings[@]}"; do
  IFS=- read -r shape rate latency <<<"$s"
  nodes=${shape%x*} per_node=${shape#*x}
  "$parm" cluster down --name pipe >/dev/null 2>&1 || true
  "$parm" cluster up --nodes "$nodes" --ranks-per-node "$per_node" --inter-bandwidth "$rate" \
    ${latency:+--inter-latency "$latency"} --name pipe >/dev/null
  ranks=$((nodes * per_node))
  "$parm" calibrate "$config" --cluster pipe --ranks "$ranks" --out "$out/cal-$s.json" >/dev/null
  "$parm" validate "$config" --cluster pipe --ranks "$ranks" --calibration "$out/cal-$s.json" \
    --degrees "$degrees" --alltoall "$alltoall" --repeat "$repeat" --json >"$out/$s.json"
  jq -r --arg s "$s" '
    .layers[0] as $l
    | ($l.schedules | map(select(.schedule | test("^S[12]F?$")))) as $parm
    | ($parm | min_by(.measured_ms)) as $pm
    | ($l.schedules[] | select(.schedule == $l.predicted_best)) as $sel
    | ($parm | min_by(.predicted_ms)) as $pp
    | "== \($s): selected \($sel.schedule) measured \($sel.measured_ms * 100 | round / 100) ms vs Parm best \($pm.schedule) \($pm.measured_ms * 100 | round / 100) ms: measured x\($pm.measured_ms / $sel.measured_ms * 100 | round / 100), predicted x\($pp.predicted_ms / $sel.predicted_ms * 100 | round / 100) (over \($pp.schedule))",
      ($l.schedules[] | "  \(.schedule): predicted \(.predicted_ms * 100 | round / 100) ms, measured \(.measured_ms * 100 | round / 100) ms, error \(.error_pct * 10 | round / 10)%")' \
    "$out/$s.json"
  "$parm" cluster down --name pipe >/dev/null
done
