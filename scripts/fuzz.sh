#!/usr/bin/env bash
# Fuzzes one input parser with libFuzzer (clang++, AddressSanitizer + UndefinedBehaviorSanitizer) for SECONDS.
# Usage: scripts/fuzz.sh TARGET SECONDS
#   TARGET: config | calibration | grid | nsys_import (or fuzz_<name>); "build" only builds every target.
# Builds build-fuzz/ (tests/fuzz, its own small CMake project: no Qt, MPI or CUDA), then runs the target on a
# scratch copy of tests/fuzz/corpus/TARGET, so the committed corpus never changes.
# Exit: 0 nothing found; 1 a crash, sanitizer report, leak, timeout (10 s per input) or out-of-memory (2 GB),
# the input kept in build-fuzz/findings/TARGET/; 2 a usage error; 77 clang++ or its libFuzzer runtime is missing.
# Environment: PARM_FUZZ_JOBS (build parallelism, default 2), PARM_FUZZ_ARGS (extra libFuzzer flags).
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
  echo "usage: scripts/fuzz.sh TARGET SECONDS (TARGET: config, calibration, grid, nsys_import or build)" >&2
  exit 2
}
(($# == 2)) || usage
target=${1#fuzz_}
seconds=$2
case "$target" in config | calibration | grid | nsys_import | build) ;; *) usage ;; esac
[[ "$seconds" =~ ^[0-9]+$ ]] || usage

skip() {
  echo "fuzz: skipped: $1" >&2
  exit 77
}
command -v clang++ >/dev/null || skip "clang++ not found (apt-get install clang libclang-rt-14-dev)"
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
echo 'extern "C" int LLVMFuzzerTestOneInput(const unsigned char*, unsigned long) { return 0; }' >"$probe/p.cpp"
clang++ -fsanitize=fuzzer,address,undefined "$probe/p.cpp" -o "$probe/p" 2>/dev/null ||
  skip "clang++ cannot link libFuzzer with ASan/UBSan (apt-get install libclang-rt-14-dev)"

if [[ ! -f build-fuzz/CMakeCache.txt ]]; then
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  cmake -S tests/fuzz -B build-fuzz "${generator[@]}" -DCMAKE_CXX_COMPILER=clang++ >/dev/null
fi
if [[ "$target" == build ]]; then
  cmake --build build-fuzz -j"${PARM_FUZZ_JOBS:-2}"
  exit 0
fi
cmake --build build-fuzz -j"${PARM_FUZZ_JOBS:-2}" --target "fuzz_$target"

# In memory where possible: the nsys target writes SQLite files for every input.
scratch_base=${TMPDIR:-/tmp}
[[ -z "${TMPDIR:-}" && -d /dev/shm && -w /dev/shm ]] && scratch_base=/dev/shm
scratch=$(mktemp -d "$scratch_base/parm-fuzz-$target.XXXXXX")
trap 'rm -rf "$probe" "$scratch"' EXIT
mkdir -p "$scratch/corpus" "$scratch/tmp" "build-fuzz/findings/$target"
cp tests/fuzz/corpus/"$target"/* "$scratch/corpus/"
seeds=$(find "$scratch/corpus" -type f | wc -l)
dict=()
[[ -f "tests/fuzz/$target.dict" ]] && dict=(-dict="tests/fuzz/$target.dict")
# shellcheck disable=SC2086  # PARM_FUZZ_ARGS is a list of flags
TMPDIR="$scratch/tmp" UBSAN_OPTIONS=print_stacktrace=1 ASAN_OPTIONS=detect_leaks=1 \
  "build-fuzz/fuzz_$target" "$scratch/corpus" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -error_exitcode=1 -timeout_exitcode=1 -artifact_prefix="build-fuzz/findings/$target/" -print_final_stats=1 \
  -print_funcs=0 "${dict[@]}" ${PARM_FUZZ_ARGS:-} && rc=0 || rc=$?
inputs=$(find "$scratch/corpus" -type f | wc -l)
if ((rc != 0)); then
  echo "fuzz: $target: FOUND a crash, leak or timeout (libFuzzer exit $rc); the input is in" \
    "build-fuzz/findings/$target/, replay it with build-fuzz/fuzz_$target FILE" >&2
  exit 1
fi
echo "fuzz: $target: ${seconds} s, nothing found; corpus $seeds -> $inputs inputs"
