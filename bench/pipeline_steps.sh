#!/usr/bin/env bash
# The fused pipelines' measured step timeline against the model's simulated one, from the same run (issue 17):
# brings up an emulated 2-node x 2-rank cluster at 1 Gbit/s (its own name, taken down on every way out), makes a
# quick calibration on it, runs `parm validate` of the default preset there with --db (every schedule measured
# and the prediction stored against the same run) and prints `parm steps` of S2F and S1F: per pipeline, stage
# and step the measured start/end (median over iterations, slowest rank) next to the predicted one, and whether
# every lane ran, and was simulated, in the executor's issue order. Needs root. Not a test: a few minutes.
# Usage: bench/pipeline_steps.sh [OUT] [CONFIG]   (OUT default build/pipeline-steps, CONFIG default `default`)
set -euo pipefail
cd "$(dirname "$0")/.."
parm=${PARM:-build/engine/parm}
out=${1:-build/pipeline-steps}
config=${2:-default}
name=${PARM_STEPS_CLUSTER:-steps}
rate=${PARM_STEPS_RATE:-1gbit}
mkdir -p "$out"
rm -f "$out/project.sqlite" "$out/project.sqlite-wal" "$out/project.sqlite-shm"

down() { "$parm" cluster down --name "$name" >/dev/null 2>&1 || true; }
down  # leftovers of a killed earlier run
trap down EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
"$parm" cluster up --nodes 2 --ranks-per-node 2 --inter-bandwidth "$rate" --name "$name" >/dev/null
echo "machine load: $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min); cluster $name: 2 nodes x 2 ranks, $rate"
"$parm" calibrate "$config" --quick --cluster "$name" --out "$out/calibration.json" \
  --db "$out/project.sqlite" >"$out/calibrate.log"
"$parm" validate "$config" --cluster "$name" --calibration "$out/calibration.json" \
  --db "$out/project.sqlite" >"$out/validate.log"
cat "$out/validate.log"
for s in S2F S1F; do
  echo
  "$parm" steps --db "$out/project.sqlite" --schedule "$s"
  "$parm" steps --db "$out/project.sqlite" --schedule "$s" --json >"$out/steps-$s.json"
done
echo
echo "machine load after: $(cut -d' ' -f1-3 /proc/loadavg)"
