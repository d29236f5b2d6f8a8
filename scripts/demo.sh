#!/usr/bin/env bash
# Quick start 1: install, build, then the main job on the embedded default preset: a quick calibration on the 4
# local ranks, then `parm validate`: every schedule predicted with that calibration and run for real on 4 ranks,
# stored in build/demo/project.sqlite, and printed side by side (measured, predicted, error, speedup vs B_DS)
# with the recommendation and its reason. As root it then does the same on a 2-node x 2-rank emulated cluster
# with a slow inter-node link (scripts/demo_cluster.sh), where the schedules that move less across nodes win,
# takes the cluster down (also when interrupted) and prints both verdicts, local and slow link, together.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/demo_cluster.sh
scripts/build.sh
mkdir -p build/demo
db=$demo_db
"$parm" check
echo
"$parm" calibrate --quick --out build/demo/calibration.json --db "$db"
echo
local_out=$(mktemp)
"$parm" validate --ranks 4 --calibration build/demo/calibration.json --db "$db" | tee "$local_out"
local_run=$(sed -n 's/^stored as run \([0-9]*\) .*/\1/p' "$local_out")
rm -f "$local_out"

cluster_label=
if [[ $(id -u) != 0 ]]; then
  echo
  echo "demo: skipping the 2-node emulated cluster with a slow link: it needs root (network namespaces and tc); the local part above is complete."
else
  demo_cluster_arm_cleanup
  echo
  echo "== The same job on 2 emulated nodes x 2 ranks, inter-node link $demo_rate (calibration, then validate)"
  demo_cluster_validate
  cluster_label="2 nodes x 2 ranks, inter-node link $(demo_rate_words)"
  demo_cluster_down
  echo "cluster $demo_cluster removed"
fi

echo
echo "== Verdicts (the GUI's Compare page says the same; parm show --db $db --run N --verdict)"
echo "local, 4 ranks on shared memory:"
echo "  $("$parm" show --db "$db" --run "$local_run" --verdict)"
if [[ -n $cluster_label ]]; then
  echo "$cluster_label:"
  echo "  $("$parm" show --db "$db" --run "$demo_cluster_run" --verdict)"
fi
