#!/usr/bin/env bash
# Quick start 1: install, build, then the main job on the embedded default preset: a quick calibration on the 4
# local ranks, then `parm validate`: every schedule predicted with that calibration and run for real on 4 ranks,
# stored in build/demo/project.sqlite, and printed side by side (measured, predicted, error, speedup vs B_DS)
# with the recommendation and its reason.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
mkdir -p build/demo
build/engine/parm check
echo
build/engine/parm calibrate --quick --out build/demo/calibration.json --db build/demo/project.sqlite
echo
build/engine/parm validate --ranks 4 --calibration build/demo/calibration.json --db build/demo/project.sqlite
