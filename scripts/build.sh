#!/usr/bin/env bash
# Installs what is missing, configures (CMake preset "default" -> build/) and builds everything.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
# nvcc lives outside PATH on a plain CUDA install; CMake finds it there too (PARM_WITH_CUDA turns on by itself).
if ! command -v nvcc >/dev/null && [[ -x /usr/local/cuda/bin/nvcc ]]; then export PATH=/usr/local/cuda/bin:$PATH; fi
cmake --preset default >/dev/null
cmake --build --preset default -j"$(nproc)"
