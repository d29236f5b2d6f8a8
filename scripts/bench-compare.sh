#!/usr/bin/env bash
# Performance of two `parm` binaries on this machine, measured alternately so that load and clock drift hit
# both alike: ROUNDS rounds of `parm bench layer` and of a RANKS-rank `parm run` of every schedule of the
# embedded default preset (old first in odd rounds, new first in even ones). Prints per measure the median of
# each binary with its spread (+-%: half the range of the rounds, relative to the median), new/old and whether
# it is within TOLERANCE (5%), and whether the byte counters are identical.
#
#   scripts/bench-compare.sh OLD_PARM NEW_PARM [ROUNDS=5]
#   RANKS=4 TOLERANCE=0.05 CONFIG=default ITERATIONS=20 scripts/bench-compare.sh /work/parm_old build/engine/parm 7
#   (ITERATIONS: measured iterations of `bench layer`; default the config's run.iterations)
#
# Exit 0: every median within the tolerance and identical bytes; 1: a measure outside it or bytes differ;
# 2: bad arguments or a binary that failed. Needs bash, awk and sort only (the JSON of `parm ... --json` is
# nlohmann's dump(2): one member per line, two spaces per level).
set -euo pipefail

usage() {
  echo "usage: $0 OLD_PARM NEW_PARM [ROUNDS=5]   (env: RANKS=4 TOLERANCE=0.05 CONFIG=default ITERATIONS=N)" >&2
  exit 2
}
[[ $# -ge 2 && $# -le 3 ]] || usage
old=$(realpath "$1") new=$(realpath "$2") rounds=${3:-5}
ranks=${RANKS:-4} tolerance=${TOLERANCE:-0.05} config=${CONFIG:-default}
bench_args=(bench layer "$config" --json)
[[ -n ${ITERATIONS:-} ]] && bench_args+=(--iterations "$ITERATIONS")
for bin in "$old" "$new"; do [[ -x $bin ]] || { echo "$0: $bin is not an executable" >&2; exit 2; }; done
[[ $rounds =~ ^[1-9][0-9]*$ ]] || { echo "$0: ROUNDS must be a positive integer, got $rounds" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/parm-bench-compare.XXXXXX")
trap 'rm -rf "$work"' EXIT
samples=$work/samples.tsv  # binary <TAB> measure <TAB> value, one line per measured value
: >"$samples"

# `parm bench layer --json`: the layer's and the GEMM's median ms.
bench_layer() {
  local label=$1 bin=$2
  (cd "$work" && "$bin" "${bench_args[@]}") >"$work/bench.json" 2>"$work/bench.err" ||
    { echo "$0: $bin bench layer failed:" >&2; cat "$work/bench.err" >&2; exit 2; }
  awk -v label="$label" '
    /^  "layer": \{/ { section = "bench layer fwd+bwd ms" }
    /^  "gemm": \{/  { section = "bench gemm ms" }
    /^  [}\]]/       { section = "" }
    section != "" && /"median_ms":/ { v = $2; sub(/,$/, "", v); print label "\t" section "\t" v }
  ' "$work/bench.json" >>"$samples"
}

# `parm run --ranks R --json`: per schedule forward, backward and total ms (slowest rank, median over
# iterations) and the bytes it moved, read from the "summary" array only ("raw" repeats per-rank data).
run_all_schedules() {
  local label=$1 bin=$2
  (cd "$work" && "$bin" run "$config" --ranks "$ranks" --json) >"$work/run.json" 2>"$work/run.err" ||
    { echo "$0: $bin run failed:" >&2; cat "$work/run.err" >&2; exit 2; }
  awk -v label="$label" '
    function value(line) { sub(/^[^:]*: */, "", line); sub(/,$/, "", line); gsub(/"/, "", line); return line }
    /^  "summary": \[/ { inside = 1; next }
    inside && /^  \]/  { inside = 0 }
    !inside            { next }
    /^    \{/          { split("", row) }
    /^      "/         { key = $1; gsub(/[":]/, "", key); row[key] = value($0) }
    /^    \}/ {
      s = row["schedule"]
      print label "\trun " s " fwd ms\t" row["forward_ms"]
      print label "\trun " s " bwd ms\t" row["backward_ms"]
      print label "\trun " s " total ms\t" row["total_ms"]
      print label "\tbytes " s "\t" row["intra_bytes"] "/" row["inter_bytes"]
    }
  ' "$work/run.json" >>"$samples"
}

echo "parm bench-compare: $rounds rounds, config $config, $ranks ranks, $(nproc) cores, $(uname -srm)"
echo "  old: $old"
echo "  new: $new"
for ((i = 1; i <= rounds; i++)); do
  if ((i % 2)); then order=(old new); else order=(new old); fi
  for label in "${order[@]}"; do
    bin=$old; [[ $label == new ]] && bin=$new
    bench_layer "$label" "$bin"
  done
  for label in "${order[@]}"; do
    bin=$old; [[ $label == new ]] && bin=$new
    run_all_schedules "$label" "$bin"
  done
  echo "  round $i/$rounds done (${order[0]} first)" >&2
done

# Medians per (binary, measure) in the order measures first appear; bytes must be one value for both.
awk -F'\t' -v tol="$tolerance" -v rounds="$rounds" '
  function median(list, n,    a, i, j, t) {
    n = split(list, a, " ")
    for (i = 2; i <= n; i++) { t = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    lo = a[1]; hi = a[n]  # the spread, so a reader can tell noise from a difference
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  function spread(mid) { return mid > 0 ? 100 * (hi - lo) / (2 * mid) : 0 }
  !($2 in seen) { seen[$2] = 1; order[++measures] = $2 }
  { values[$1, $2] = values[$1, $2] " " $3 }
  END {
    bad = 0
    printf "\n%-28s %12s %7s %12s %7s %9s  %s\n", "measure (median of " rounds ")", "old", "+-%", "new", "+-%",
           "new/old", "within " tol * 100 "%"
    for (m = 1; m <= measures; m++) {
      name = order[m]
      if (name ~ /^bytes /) {
        split(substr(values["old", name], 2), o, " "); split(substr(values["new", name], 2), n, " ")
        same = 1; byte_measures++
        for (i in o) if (o[i] != o[1]) same = 0
        for (i in n) if (n[i] != o[1]) same = 0
        if (!same) { printf "%-28s %12s %7s %12s %7s %9s  %s\n", name, o[1], "", n[1], "", "", "DIFFER"; bad = 1 }
        else identical++
        continue
      }
      a = median(values["old", name]); sa = spread(a)
      b = median(values["new", name]); sb = spread(b)
      ratio = a > 0 ? b / a : 0
      ok = ratio >= 1 - tol && ratio <= 1 + tol
      if (!ok) bad = 1
      printf "%-28s %12.3f %7.1f %12.3f %7.1f %9.3f  %s\n", name, a, sa, b, sb, ratio, ok ? "yes" : "NO"
    }
    printf "\nbyte counters (intra/inter bytes per schedule): %d of %d schedules identical in every run of both\n",
           identical, byte_measures
    exit bad
  }
' "$samples"
