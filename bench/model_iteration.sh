#!/usr/bin/env bash
# Whole-model iterations (issue 18): for the small GPT-2-MoE and BERT-MoE presets, calibrate on the setting,
# then `parm validate --model` (every schedule's training step measured, every MoE block on it, against its
# prediction) and `parm predict --model` (where the predicted time goes), on 4 local ranks and on an emulated
# 2-node x 2-rank cluster at 1 Gbit/s (root). Writes OUT/<setting>-<preset>-{validate,predict}.json and
# prints per schedule the predicted and measured iteration, then rank 0's measured busy time per part (ms
# per step, summed over lanes, so parts that overlap add up to more than the step). Not a test: a few
# minutes on 2 cores.
# Usage: bench/model_iteration.sh [OUT] [SETTING...]   settings: local4 1gbit (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
parm=${PARM:-build/engine/parm}
out=${1:-build/model-iteration}
shift || true
settings=("$@")
((${#settings[@]})) || settings=(local4 1gbit)
mkdir -p "$out"
presets=(gpt2-moe-small bert-moe-small)

# Rank 0's traced ops of run RUN in DB, summed per schedule and part, per measured step.
busy() {
  local db=$1 run=$2 csv
  csv=$(mktemp)
  "$parm" export --db "$db" --run "$run" --format csv -o "$csv" >/dev/null
  awk 'NR > 1 {
      line = $0
      gsub(/"[^"]*"/, "quoted", line)  # op names such as "Split(MP,tokens)" hold commas
      split(line, f, ",")
      if (f[2] != 0) next
      part = "MoE layer"
      if (f[7] == "Attention" || f[7] == "Residual+LN" || f[7] == "Residual") part = "attention+norms"
      else if (f[7] == "FFN") part = "dense FFN"
      else if (f[7] == "Embedding" || f[7] == "Head" || f[7] == "Loss") part = "embedding+head"
      else if (f[8] == "TP") part = "TP AllReduce"
      else if (f[8] == "DP") part = "gradient sync"
      ms[f[4] " " part] += (f[15] - f[14]) / 1e6
      if (f[5] + 1 > steps) steps = f[5] + 1
    }
    END { for (k in ms) printf "  busy %-28s %9.3f ms/step\n", k, ms[k] / steps }' "$csv" | sort
  rm -f "$csv"
}

for s in "${settings[@]}"; do
  cluster=()
  if [[ $s != local4 ]]; then
    "$parm" cluster down --name iter >/dev/null 2>&1 || true
    "$parm" cluster up --nodes 2 --ranks-per-node 2 --inter-bandwidth "$s" --name iter >/dev/null
    trap '"$parm" cluster down --name iter >/dev/null 2>&1 || true' EXIT
    cluster=(--cluster iter)
  fi
  for p in "${presets[@]}"; do
    db="$out/$s-$p.sqlite"
    rm -f "$db"
    "$parm" calibrate "$p" "${cluster[@]}" --out "$out/cal-$s-$p.json" >/dev/null
    "$parm" predict "$p" --model --calibration "$out/cal-$s-$p.json" --json >"$out/$s-$p-predict.json"
    "$parm" validate "$p" --model "${cluster[@]}" --calibration "$out/cal-$s-$p.json" --db "$db" --json \
      >"$out/$s-$p-validate.json"
    echo "== $s $p: mean error $(jq -r '.mean_error_pct | . * 10 | round / 10' "$out/$s-$p-validate.json")%," \
      "auto $(jq -r .auto "$out/$s-$p-validate.json"), measured best $(jq -r .measured_best "$out/$s-$p-validate.json")" \
      "(tied: $(jq -r '.measured_tied | join(" ")' "$out/$s-$p-validate.json")), regret" \
      "$(jq -r '.regret_pct | . * 10 | round / 10' "$out/$s-$p-validate.json")%"
    jq -r '.schedules[] | "  \(.schedule): predicted \(.predicted_ms * 100 | round / 100) ms, measured \(.measured_ms * 100 | round / 100) ms [\(.measured_ms_spread.p10 * 100 | round / 100)-\(.measured_ms_spread.p90 * 100 | round / 100)], exposed sync \(.predicted_exposed_sync_ms * 100 | round / 100)/\(.measured_exposed_sync_ms * 100 | round / 100)"' \
      "$out/$s-$p-validate.json"
    jq -r '.schedules[] | "  predicted parts \(.schedule): attention \(.attention_ms * 100 | round / 100), dense FFN \(.dense_ffn_ms * 100 | round / 100), MoE \(.moe_ms * 100 | round / 100) (comm \(.moe_comm_ms * 100 | round / 100)), TP \(.tensor_parallel_ms * 100 | round / 100), head \(.head_ms * 100 | round / 100), sync \(.sync_ms * 100 | round / 100)"' \
      "$out/$s-$p-predict.json"
    busy "$db" 1
  done
  if [[ $s != local4 ]]; then "$parm" cluster down --name iter >/dev/null; trap - EXIT; fi
done
