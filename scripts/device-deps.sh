#!/usr/bin/env bash
# Fetches, here (where apt reaches a mirror), the Debian packages a lent GPU machine may lack for the build of
# scripts/device-check.sh, into .device-deps/<group>/ (ignored by git; name .device-deps in the run tool's
# `carry`). device-check.sh unpacks a group (dpkg -x, under /tmp) only when that machine lacks it:
#   blas    OpenBLAS (pthread) and its Fortran runtime       json   nlohmann-json      cli11  CLI11
#   sqlite  SQLite headers and library                       mpi    Open MPI, the fallback when the machine has none
# The mpi group is the runtime, mpirun and the headers with their direct runtime dependencies only (no -dev
# dependencies, no compilers). Run from the repository root; prints each group's size and the total, which
# must stay (with the working tree) under the 64 MiB the run tool carries.
#   DEVICE_DEPS_DRY=1  print the apt-get lines, fetch nothing
set -euo pipefail
cd "$(dirname "$0")/.."
DEST=.device-deps

declare -A PACKAGES=(
  [blas]="libopenblas-dev libopenblas-pthread-dev libopenblas0 libopenblas0-pthread libgfortran5"
  [json]="nlohmann-json3-dev"
  [cli11]="libcli11-dev"
  [sqlite]="libsqlite3-dev libsqlite3-0"
  [mpi]="libopenmpi-dev libopenmpi3 openmpi-bin openmpi-common libpmix2 libhwloc15 libevent-core-2.1-7
         libevent-pthreads-2.1-7 libfabric1 libucx0 libibverbs1 librdmacm1 libnl-3-200 libnl-route-3-200
         libpsm2-2 libpsm-infinipath1 libmunge2 libnuma1"
)

for group in blas json cli11 sqlite mpi; do
  # shellcheck disable=SC2086  # the package lists are words
  if [ "${DEVICE_DEPS_DRY:-0}" = 1 ]; then
    echo "(cd $DEST/$group && apt-get download ${PACKAGES[$group]//$'\n'/ })" | tr -s ' '
    continue
  fi
  rm -rf "${DEST:?}/$group"
  mkdir -p "$DEST/$group"
  (cd "$DEST/$group" && apt-get download -q ${PACKAGES[$group]})
  du -sh "$DEST/$group"
done
[ "${DEVICE_DEPS_DRY:-0}" = 1 ] || du -sh "$DEST"
