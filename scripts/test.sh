#!/usr/bin/env bash
# Quick start 2: install, build, then run every test (CTest; a GPU test without a GPU reports skipped).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 600
