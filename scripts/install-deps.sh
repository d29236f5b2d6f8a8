#!/usr/bin/env bash
# Installs what Parm Studio needs on Debian 12 (idempotent: only missing packages are fetched).
# Usage: scripts/install-deps.sh [--no-gui]
set -euo pipefail

packages=(
  build-essential cmake pkg-config ninja-build git
  libopenblas-dev nlohmann-json3-dev libcli11-dev
  libopenmpi-dev openmpi-bin libsqlite3-dev sqlite3
  qt6-base-dev qt6-charts-dev libqt6opengl6-dev libqt6sql6-sqlite qt6-svg-dev libxkbcommon-dev
  xvfb xauth fonts-dejavu-core
  clang libclang-rt-14-dev  # scripts/fuzz.sh: libFuzzer and the sanitizers' runtimes
  slurm-wlm munge  # tests/slurm: a real single-host Slurm the tests start and stop themselves
  openssh-server openssh-client  # tests/slurm: the login host (sshd in a network namespace)
)
[[ "${1:-}" == "--no-gui" ]] && packages=("${packages[@]:0:11}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-deps: missing packages (${missing[*]}); run as root or install them with apt-get" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
