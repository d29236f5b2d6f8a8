#!/usr/bin/env bash
# The one prepared check for a lent GPU machine (H100/H200, CUDA 13, Open MPI or none, no Qt, no network; 15
# minutes in all, start-up included, so this stays under 8): a fresh GUI-off build, the GPU tests (`ctest -L
# gpu`), traced runs with CUPTI into a project and their report, the tracing overhead, a GPU calibration,
# `parm run --backend cuda --ranks 1 --verify` and `parm run --backend cuda+mpi --ranks 4 --verify` on
# every preset (every schedule) in fp32 and bf16, and the GPU benchmarks. Every step is bounded by a timeout
# and by the whole script's budget, its rc and output go to $OUT/device-check.log, a summary to
# $OUT/device-check.json ({step: {rc, seconds, status, ...}}), and a failed step never stops the next one.
#
# Run from the repository root:  scripts/device-check.sh            ($OUT defaults to ./device-check-out)
#   DEVICE_CHECK_DRY=1     print the steps and the decisions (what would be unpacked), run nothing
#   DEVICE_CHECK_BUDGET_S  the whole script's budget in seconds (default 470)
#   DEVICE_CHECK_ARCH      CUDA architectures to build (default 90: the lent machines are Hopper)
#   DEVICE_CHECK_PRESETS   presets to run (default: default tc1 bert-base-moe gpt2-moe)
#   DEVICE_CHECK_STOP_AFTER  stop after this step (e.g. configure: checks the dependency fallback here)
#   DEVICE_CHECK_ASSUME_MISSING  groups to treat as missing (blas json cli11 sqlite mpi): tests the fallback
#                          on a machine that has them
# Packages the machine lacks come from .device-deps/ (scripts/device-deps.sh fills it here; name it in the
# run tool's `carry`), unpacked with dpkg -x under /tmp, never into /.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$PWD
OUT=${OUT:-$ROOT/device-check-out}
DRY=${DEVICE_CHECK_DRY:-0}
BUDGET=${DEVICE_CHECK_BUDGET_S:-470}
ARCH=${DEVICE_CHECK_ARCH:-90}
PRESETS=${DEVICE_CHECK_PRESETS:-default tc1 bert-base-moe gpt2-moe}
STOP_AFTER=${DEVICE_CHECK_STOP_AFTER:-}
JOBS=${DEVICE_CHECK_JOBS:-16}
BUILD=${DEVICE_CHECK_BUILD:-/tmp/parm-device-build}
WORK=${DEVICE_CHECK_WORK:-/tmp/parm-device-work}  # configs and per-step output: $OUT brings back 8 files
PREFIX=/tmp/parm-device-deps
DEPS=$ROOT/.device-deps
PARM=$BUILD/engine/parm
START=$SECONDS

mkdir -p "$OUT" "$WORK" || exit 2
LOG=$OUT/device-check.log
SUMMARY=$OUT/device-check.json
RUNS=$OUT/runs.json  # every run's --json output, one object per line
: >"$LOG"
: >"$RUNS"
STEPS=()  # '"name": {...}' entries of the summary

say() { printf '%s\n' "$*" | tee -a "$LOG"; }
json_string() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/ }
  printf '"%s"' "${s//$'\t'/ }"
}
write_summary() {
  local body="" entry
  for entry in "${STEPS[@]}"; do body+="${body:+,$'\n'}  $entry"; done
  printf '{\n  "dry": %s,\n  "seconds": %d,\n  "steps": {\n%s\n  }\n}\n' \
    "$([ "$DRY" = 1 ] && echo true || echo false)" $((SECONDS - START)) "$body" >"$SUMMARY"
}
record() {  # record NAME RC SECONDS STATUS [EXTRA_JSON_MEMBERS]
  STEPS+=("$(json_string "$1"): {\"rc\": $2, \"seconds\": $3, \"status\": \"$4\"${5:+, $5}}")
  write_summary
}

# step NAME TIMEOUT_S COMMAND...: runs COMMAND with its output in $WORK/NAME.out and the log; the timeout is
# cut to what is left of the budget, and a step with under 5 s left is skipped.
STEP_OUT=""
step() {
  local name=$1 limit=$2
  shift 2
  STEP_OUT=$WORK/$name.out
  local left=$((BUDGET - (SECONDS - START)))
  ((limit > left)) && limit=$left
  if ((limit < 5)); then
    say "== $name: skipped (budget of ${BUDGET}s spent)"
    record "$name" null 0 skipped
    return 0
  fi
  say "== $name (timeout ${limit}s): $*"
  if [ "$DRY" = 1 ]; then
    record "$name" null 0 dry "\"timeout_s\": $limit"
    stop_if_asked "$name"
    return 0
  fi
  local t0=$SECONDS rc
  timeout --kill-after=10 "$limit" "$@" >"$STEP_OUT" 2>&1
  rc=$?
  cat "$STEP_OUT" >>"$LOG"
  local status=ok
  ((rc == 124 || rc == 137)) && status=timed_out
  ((rc != 0 && rc != 124 && rc != 137)) && status=failed
  say "== $name: rc $rc, $((SECONDS - t0)) s, $status"
  record "$name" "$rc" $((SECONDS - t0)) "$status" "\"timeout_s\": $limit${STEP_EXTRA:+, $STEP_EXTRA}"
  STEP_EXTRA=""
  stop_if_asked "$name"
  return 0
}
stop_if_asked() {
  [ "$1" = "$STOP_AFTER" ] || return 0
  say "parm device check: stopped after $1 (DEVICE_CHECK_STOP_AFTER)"
  exit 0
}
STEP_EXTRA=""

# --- what the machine lacks -------------------------------------------------------------------------------
have_header() {  # have_header RELATIVE_PATH: in a standard include folder
  local d
  for d in /usr/include /usr/local/include /usr/include/x86_64-linux-gnu; do [ -e "$d/$1" ] && return 0; done
  return 1
}
have_mpi() { command -v mpicxx >/dev/null && command -v mpirun >/dev/null && mpicxx -showme:incdirs >/dev/null 2>&1; }
LIBS_KNOWN=$(ldconfig -p 2>/dev/null)  # read once: `ldconfig -p | grep -q` fails under pipefail (SIGPIPE)
have_lib() { grep -q "^[[:space:]]*$1 " <<<"$LIBS_KNOWN"; }
have_blas() { have_lib libopenblas.so && have_header cblas.h; }
have_sqlite() { have_header sqlite3.h && have_lib libsqlite3.so; }

MISSING=()
have_blas || MISSING+=(blas)
have_header nlohmann/json.hpp || MISSING+=(json)
have_header CLI/CLI.hpp || MISSING+=(cli11)
have_sqlite || MISSING+=(sqlite)
have_mpi || MISSING+=(mpi)
for group in ${DEVICE_CHECK_ASSUME_MISSING:-}; do
  [[ " ${MISSING[*]} " == *" $group "* ]] || MISSING+=("$group")
done

say "parm device check: $(date -u +%FT%TZ), budget ${BUDGET}s, architectures $ARCH, out $OUT$([ "$DRY" = 1 ] && echo ', DRY RUN')"
say "missing here: ${MISSING[*]:-nothing}"

# Unpacks each missing group's .debs from $DEPS into $PREFIX (dry: says what it would unpack).
unpack_missing() {
  local group deb count
  for group in "${MISSING[@]}"; do
    count=$(compgen -G "$DEPS/$group/*.deb" | wc -l)
    if ((count == 0)); then
      echo "$group: missing here and no .deb in $DEPS/$group (run scripts/device-deps.sh there, carry .device-deps)"
      continue
    fi
    if [ "$DRY" = 1 ]; then
      echo "$group: would unpack $count packages from $DEPS/$group into $PREFIX"
      continue
    fi
    mkdir -p "$PREFIX" || return 1
    for deb in "$DEPS/$group"/*.deb; do dpkg -x "$deb" "$PREFIX" || return 1; done
    if [ "$group" = mpi ]; then  # what Debian's alternatives would link
      local tool
      for tool in mpicc mpicxx mpirun mpiexec; do ln -sf "$tool.openmpi" "$PREFIX/usr/bin/$tool"; done
    fi
    echo "$group: unpacked $count packages into $PREFIX"
  done
}
MISSING_JSON=""
for group in "${MISSING[@]}"; do MISSING_JSON+="\"$group\","; done
t0=$SECONDS
unpack_missing >"$WORK/deps.out" 2>&1
rc=$?
tee -a "$LOG" <"$WORK/deps.out"
record deps "$rc" $((SECONDS - t0)) "$([ "$DRY" = 1 ] && echo dry || { ((rc == 0)) && echo ok || echo failed; })" \
  "\"missing\": [${MISSING_JSON%,}]"

# Only what was unpacked is pointed at: a machine that has a package keeps its own.
CMAKE_EXTRA=()
LIBDIRS=()
for group in "${MISSING[@]}"; do
  case $group in
    blas)
      LIBDIRS+=("$PREFIX/usr/lib/x86_64-linux-gnu/openblas-pthread" "$PREFIX/usr/lib/x86_64-linux-gnu")
      CMAKE_EXTRA+=(-DBLA_VENDOR=OpenBLAS "-DCMAKE_LIBRARY_PATH=$PREFIX/usr/lib/x86_64-linux-gnu/openblas-pthread"
        "-DCMAKE_CXX_FLAGS=-isystem $PREFIX/usr/include/x86_64-linux-gnu/openblas-pthread")
      ;;
    json | cli11) CMAKE_EXTRA+=("-DCMAKE_PREFIX_PATH=$PREFIX/usr") ;;
    sqlite)
      LIBDIRS+=("$PREFIX/usr/lib/x86_64-linux-gnu")
      CMAKE_EXTRA+=("-DSQLite3_INCLUDE_DIR=$PREFIX/usr/include"
        "-DSQLite3_LIBRARY=$PREFIX/usr/lib/x86_64-linux-gnu/libsqlite3.so")
      ;;
    mpi)
      # Debian's Open MPI relocated: its wrappers, mpirun and PMIx find their files through these.
      export OPAL_PREFIX=$PREFIX/usr PMIX_INSTALL_PREFIX=$PREFIX/usr
      export PATH=$PREFIX/usr/bin:$PATH
      LIBDIRS+=("$PREFIX/usr/lib/x86_64-linux-gnu/openmpi/lib" "$PREFIX/usr/lib/x86_64-linux-gnu")
      CMAKE_EXTRA+=("-DMPI_CXX_COMPILER=$PREFIX/usr/bin/mpicxx" "-DMPIEXEC_EXECUTABLE=$PREFIX/usr/bin/mpirun")
      command -v ssh >/dev/null || export OMPI_MCA_plm_rsh_agent=false  # local ranks only; no ssh there
      ;;
  esac
done
if ((${#LIBDIRS[@]})); then
  LD_LIBRARY_PATH=$(IFS=:; echo "${LIBDIRS[*]}")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export LD_LIBRARY_PATH
fi
# CMake keeps the last of repeated -D options: merge the prefix path entries into one.
if printf '%s\n' "${CMAKE_EXTRA[@]}" | grep -q CMAKE_PREFIX_PATH; then
  mapfile -t CMAKE_EXTRA < <(printf '%s\n' "${CMAKE_EXTRA[@]}" | grep -v CMAKE_PREFIX_PATH | sort -u)
  CMAKE_EXTRA+=("-DCMAKE_PREFIX_PATH=$PREFIX/usr")
fi
# Root on a lent machine; 4 ranks on 16 cores need no oversubscription, but the check must not depend on it.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
export OPENBLAS_NUM_THREADS=1

# --- the machine, the build, the GPU tests ----------------------------------------------------------------
step machine 30 bash -c 'uname -a; nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1;
  nvcc --version | tail -2; cmake --version | head -1; command -v ninja; command -v mpirun && mpirun --version | head -1'
GENERATOR=()
command -v ninja >/dev/null && GENERATOR=(-G Ninja)
step configure 90 cmake -S "$ROOT" -B "$BUILD" "${GENERATOR[@]}" -DCMAKE_BUILD_TYPE=Release -DPARM_WITH_GUI=OFF \
  -DPARM_WITH_CUDA=ON "-DCMAKE_CUDA_ARCHITECTURES=$ARCH" -DCMAKE_DISABLE_FIND_PACKAGE_Qt6=ON "${CMAKE_EXTRA[@]}"
step build 240 cmake --build "$BUILD" -j"$JOBS"
STEP_EXTRA="\"junit\": \"gpu-tests.xml\""
step gpu_tests 120 ctest --test-dir "$BUILD" -L gpu --output-on-failure --timeout 100 --output-junit "$OUT/gpu-tests.xml"

# --- parm run on the device -------------------------------------------------------------------------------
# A preset as one device runs it: RANKS ranks on one node (MP and ESP at most RANKS), every schedule, DTYPE,
# few iterations (the check is about exactness; the benchmark below times).
variant() {  # variant PRESET DTYPE RANKS -> path of the written configuration
  local file=$WORK/$1-$2-np$3.json
  python3 - "$ROOT/resources/presets/$1.json" "$2" "$3" >"$file" <<'PY' || return 1
import json, sys
c = json.load(open(sys.argv[1]))
ranks = int(sys.argv[3])
c["layer"]["dtype"] = sys.argv[2]
p = c.setdefault("parallel", {})
mp = min(int(p.get("mp", 1)), ranks)
while ranks % mp:
    mp -= 1
p.update({"ranks": ranks, "gpus_per_node": ranks, "mp": mp, "esp": mp if int(p.get("esp", 1)) > 1 else 1})
c.setdefault("run", {}).update({"warmup": 1, "iterations": 3,
                                "schedules": ["B_DS", "B_DS2", "B0", "S1", "S1F", "S2", "S2F",
                                              "B_DSr4", "S1r2", "S2Fr4"]})  # + pipelined (issue 19)
json.dump(c, sys.stdout, indent=1)
PY
  echo "$file"
}
# The layer's fwd+bwd ms per schedule from a run's --json output, as summary members.
run_extra() {
  [ -s "$STEP_OUT" ] || return 0
  python3 - "$STEP_OUT" "$RUNS" <<'PY' 2>/dev/null
import json, sys
text = open(sys.argv[1]).read()
start = text.find("{")
try:
    out = json.loads(text[start:text.rfind("}") + 1])
except ValueError:
    sys.exit(0)
with open(sys.argv[2], "a") as runs:
    runs.write(json.dumps(out) + "\n")
ms = {row["schedule"]: round(row["forward_ms"] + row["backward_ms"], 4) for row in out.get("summary", [])}
ranks = [r.get("device", {}) for r in out.get("raw", {}).get("ranks", [])]
print('"layer_fwd_bwd_ms": %s, "devices": %s, "peak_device_bytes": %d, "allocations_in_measured_iterations": %d'
      % (json.dumps(ms), json.dumps(out.get("devices", [])), max([d.get("peak_bytes", 0) for d in ranks] or [0]),
         sum(d.get("allocations", 0) for d in ranks)))
PY
}
# --- whole models (issue 18) ------------------------------------------------------------------------------
# A training step of the small GPT-2-MoE per schedule with the blocks on kernels/cuda: NCCL on one rank,
# host-staged MPI on two ranks sharing the GPU (test_engine_model_cuda checks the same against the reference).
for mode in "cuda 1" "cuda+mpi 2"; do
  set -- $mode
  name=model_${1/+/_}_np$2
  if [ "$DRY" = 1 ]; then
    config=$WORK/gpt2-moe-small-fp32-np$2.json
  elif ! config=$(variant gpt2-moe-small fp32 "$2"); then
    say "== $name: could not write the configuration"
    record "$name" null 0 failed
    continue
  fi
  step "$name" 60 "$PARM" run "$config" --model --backend "$1" --ranks "$2" --json --timeout-ms 30000
done
# --- GPU capture and calibration (issue 15) ----------------------------------------------------------------
# Traced runs into one project (1 rank on cuda = NCCL, 4 ranks on cuda+mpi = staged MPI), the report of what
# CUPTI captured per op (scripts/gpu-trace-report.py: every op has device activity, no dropped records, kernels
# inside their op's range), the tracing overhead (traced / untraced in one process) and a GPU calibration.
TRACE_DB=$WORK/trace.sqlite
rm -f "$TRACE_DB" "$TRACE_DB-wal" "$TRACE_DB-shm"
for mode in "cuda 1" "cuda+mpi 4"; do
  set -- $mode
  name=trace_${1/+/_}_np$2
  if [ "$DRY" = 1 ]; then
    config=$WORK/default-fp32-np$2.json
  elif ! config=$(variant default fp32 "$2"); then
    say "== $name: could not write the configuration"
    record "$name" null 0 failed
    continue
  fi
  step "$name" 90 "$PARM" run "$config" --backend "$1" --ranks "$2" --db "$TRACE_DB" --json --timeout-ms 30000
done
STEP_EXTRA="\"report\": \"gpu-trace.json\""
step trace_report 30 python3 "$ROOT/scripts/gpu-trace-report.py" "$TRACE_DB" --json "$OUT/gpu-trace.json"
step bench_tracing 90 mpirun -np 1 "$BUILD/bench/parm_bench_tracing" --backend cuda --iterations 20
for mode in "cuda 1" "cuda+mpi 4"; do
  set -- $mode
  STEP_EXTRA="\"calibration\": \"calibration-${1/+/_}.json\""
  step "calibrate_${1/+/_}_np$2" 90 "$PARM" calibrate "$WORK/default-fp32-np$2.json" --backend "$1" --ranks "$2" \
    --quick --out "$OUT/calibration-${1/+/_}.json" --timeout-ms 30000  # the layout the traced run used
done

# --verify computes the single-process reference on the host, once per schedule on every rank: OpenBLAS gets
# the cores the ranks leave (the launcher's default is 1 thread). fp32 on every preset first, so a budget cut
# short loses bf16 runs before any fp32 one.
CORES=$(nproc 2>/dev/null || echo 16)
# fp32 on every preset, the expert benchmark, then bf16: a budget cut short loses bf16 runs first.
run_presets() {  # run_presets DTYPE
  local dtype=$1 preset mode name config threads extra
  for preset in $PRESETS; do
    for mode in "cuda 1" "cuda+mpi 4"; do
      set -- $mode
      name=run_${1/+/_}_np$2_${preset}_$dtype
      if [ "$DRY" = 1 ]; then
        config=$WORK/$preset-$dtype-np$2.json
      elif ! config=$(variant "$preset" "$dtype" "$2"); then
        say "== $name: could not write the configuration"
        record "$name" null 0 failed
        continue
      fi
      threads=$((CORES / $2 > 0 ? CORES / $2 : 1))
      step "$name" 75 env OPENBLAS_NUM_THREADS=$threads "$PARM" run "$config" --backend "$1" --ranks "$2" --verify \
        --json --timeout-ms 30000
      [ "$DRY" = 1 ] || { extra=$(run_extra); [ -n "$extra" ] && STEPS[-1]=${STEPS[-1]%\}}", $extra}" && write_summary; }
    done
  done
}
run_presets fp32
# The hierarchical (2DH) AlltoAll (issue 19) on the device: 4 ranks as 2 "nodes" of 2 with N_MP = 1, so the EP
# group has 2 ranks per node on 2 nodes (EP-intra and EP-inter are real 2-rank communicators, staged MPI on one
# GPU), each variant beside its flat twin, checked against the reference.
TWO_DH=$WORK/default-fp32-np4-2dh.json
if [ "$DRY" = 1 ] || python3 - "$ROOT/resources/presets/default.json" >"$TWO_DH" <<'PY'; then
import json, sys
c = json.load(open(sys.argv[1]))
c["layer"]["dtype"] = "fp32"
c["parallel"] = {"ranks": 4, "gpus_per_node": 2, "mp": 1, "esp": 1}
c.setdefault("run", {}).update({"warmup": 1, "iterations": 3,
                                "schedules": ["B_DS", "B_DSh", "S1", "S1h", "S2r2h", "B_DS2r4h"]})
json.dump(c, sys.stdout, indent=1)
PY
  step hierarchical_cuda_mpi_np4 75 "$PARM" run "$TWO_DH" --backend cuda+mpi --ranks 4 --verify --json \
    --timeout-ms 30000
else
  say "== hierarchical_cuda_mpi_np4: could not write the configuration"
  record hierarchical_cuda_mpi_np4 null 0 failed
fi

# --- benchmarks -------------------------------------------------------------------------------------------
if [ "$DRY" = 1 ] || [ -x "$BUILD/bench/parm_bench_gpu_experts" ]; then
  step bench_experts 120 "$BUILD/bench/parm_bench_gpu_experts" --json "$OUT/experts.json"
else
  say "== bench_experts: skipped ($BUILD/bench/parm_bench_gpu_experts was not built)"
  record bench_experts null 0 skipped
fi

run_presets bf16

write_summary
say "parm device check: done in $((SECONDS - START)) s; summary $SUMMARY"
exit 0
