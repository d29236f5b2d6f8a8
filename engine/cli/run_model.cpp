#include "engine/cli/run_model.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "engine/cli/spread_format.h"
#include "engine/cli/summary_table.h"

namespace parm::cli {
namespace {

[[noreturn]] void refuse(const std::string& why) {
  std::cerr << "parm run --model: " << why << '\n';
  throw CLI::RuntimeError(2);
}

}  // namespace

void check_model_run(const Config& c, bool verify, bool routing_options) {
  if (!c.model)
    refuse(c.name +
           " has no 'model' section: add one (README: Whole models) or use a model preset (gpt2-moe-small, "
           "bert-moe-small)");
  if (c.layer.dtype != DType::Fp32 && c.layer.dtype != DType::Fp64)
    refuse("layer.dtype = " + std::string(to_string(c.layer.dtype)) + ": a whole model runs in fp32 or fp64");
  if (verify)
    refuse(
        "--verify checks the lone layer; the model's exactness against the reference model is "
        "test_engine_model_exact_mpi's");
  if (routing_options)
    refuse("--gate-logits and --dump-routing are per-layer options; run them without --model");
}

void print_model_table(const Config& c, const std::vector<ScheduleSummary>& rows,
                       const std::map<ScheduleKind, ScheduleSpreads>& spreads) {
  const ModelConfig& m = *c.model;
  std::printf(
      "model: %s-style, %lld blocks (%lld with the MoE layer), %lld heads, vocabulary %lld; each schedule "
      "runs "
      "every MoE block\n",
      std::string(to_string(m.style)).c_str(), (long long)m.layers, (long long)m.moe_blocks(),
      (long long)m.heads, (long long)m.vocab);
  std::printf(
      "%lld warm-up + %lld measured steps; per step the slowest rank, median [p10-p90]; bwd+sync ends when "
      "the "
      "last gradient is reduced\n\n",
      (long long)c.run.warmup, (long long)c.run.iterations);
  std::printf("%-8s %20s %20s %11s %11s %20s %8s %9s\n", "schedule", "fwd ms", "bwd+sync ms", "exposed ms",
              "sync ms", "iteration ms", "vs B_DS", "loss");
  for (const ScheduleSummary& r : rows) {
    const auto it = spreads.find(r.kind);
    const ScheduleSpreads* s = it == spreads.end() ? nullptr : &it->second;
    std::printf("%-8s %20s %20s %11.3f %11.3f %20s %8s %9.5f\n", std::string(to_string(r.kind)).c_str(),
                time_cell(r.forward_ms, s ? &s->forward_ms : nullptr).c_str(),
                time_cell(r.backward_ms, s ? &s->backward_ms : nullptr).c_str(), r.exposed_sync_ms, r.sync_ms,
                time_cell(r.total_ms, s ? &s->layer_ms : nullptr).c_str(),
                format_speedup(r.speedup_vs_bds).c_str(), r.loss.value_or(0.0));
  }
}

nlohmann::json model_row_json(const ScheduleSummary& r,
                              const std::map<ScheduleKind, ScheduleSpreads>& spreads) {
  nlohmann::json row = summary_row_json(r, spreads);
  row["exposed_sync_ms"] = r.exposed_sync_ms;
  row["sync_ms"] = r.sync_ms;
  row["iteration_ms"] = r.total_ms;
  row["loss"] = r.loss ? nlohmann::json(*r.loss) : nullptr;
  return row;
}

}  // namespace parm::cli
