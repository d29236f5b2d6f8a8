#!/usr/bin/env bash
# Quick start 1: install, build, then run the main job on the embedded default preset.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
build/engine/parm check
echo
build/engine/parm run   # every schedule of the default preset on 4 local MPI ranks (2 virtual nodes x 2)
