#include "engine/cli/model_predict.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>

#include "engine/model/recommendation.h"
#include "engine/model/timeline_model.h"

namespace parm::cli {

std::vector<ModelPrediction> predict_model_or_exit(const Config& config, const Calibration& calib,
                                                   const std::string& who) {
  if (!config.model) {
    std::cerr << who << " --model: " << config.name << " has no 'model' section\n";
    throw CLI::RuntimeError(2);
  }
  std::vector<ModelPrediction> out;
  try {
    for (ScheduleKind kind : config.run.schedules) out.push_back(predict_model(config, calib, kind));
  } catch (const std::exception& e) {
    std::cerr << who << " --model: " << e.what() << '\n';
    throw CLI::RuntimeError(1);
  }
  return out;
}

ScheduleKind model_choice(const std::vector<ModelPrediction>& predictions) {
  std::vector<std::pair<ScheduleKind, double>> times;
  for (const ModelPrediction& p : predictions) times.push_back({p.kind, p.iteration_ms});
  return select_with_margin(times);
}

namespace {

double baseline_ms(const std::vector<ModelPrediction>& predictions) {
  for (const ModelPrediction& p : predictions)
    if (p.kind == kSpeedupBaseline) return p.iteration_ms;
  return 0;
}

}  // namespace

nlohmann::json model_prediction_json(const Config& config, const Calibration& calib,
                                     const std::vector<ModelPrediction>& predictions) {
  const double bds = baseline_ms(predictions);
  nlohmann::json rows = nlohmann::json::array();
  for (const ModelPrediction& p : predictions)
    rows.push_back({{"schedule", to_string(p.kind)},
                    {"forward_ms", p.forward_ms},
                    {"backward_ms", p.backward_ms},
                    {"exposed_sync_ms", p.exposed_sync_ms},
                    {"sync_ms", p.sync_ms},
                    {"iteration_ms", p.iteration_ms},
                    {"speedup_vs_B_DS", bds > 0 ? nlohmann::json(bds / p.iteration_ms) : nullptr},
                    {"attention_ms", p.attention_ms},
                    {"dense_ffn_ms", p.dense_ffn_ms},
                    {"moe_ms", p.moe_ms},
                    {"moe_comm_ms", p.moe_comm_ms},
                    {"tensor_parallel_ms", p.tensor_parallel_ms},
                    {"head_ms", p.head_ms}});
  const Recommendation layer = recommend(config, calib);
  return {{"config", config.name},
          {"calibration", calib.id},
          {"unit", "model"},
          {"schedules", rows},
          {"auto", to_string(model_choice(predictions))},
          {"layer_choice", to_string(layer.chosen)}};
}

void print_model_prediction(const Config& config, const Calibration& calib,
                            const std::vector<ModelPrediction>& predictions) {
  const ModelConfig& m = *config.model;
  std::printf(
      "config %s: %s-style model, %lld blocks (%lld MoE); calibration %s; every MoE block on each schedule\n",
      config.name.c_str(), std::string(to_string(m.style)).c_str(), (long long)m.layers,
      (long long)m.moe_blocks(), calib.id.c_str());
  std::printf("%-6s %10s %10s %10s %10s %12s %8s | %10s %10s %10s %10s %10s\n", "sched", "fwd ms", "bwd ms",
              "exposed", "sync ms", "iteration", "vs B_DS", "attention", "dense FFN", "MoE", "(MoE comm)",
              "TP comm");
  const double bds = baseline_ms(predictions);
  const ScheduleKind chosen = model_choice(predictions);
  for (const ModelPrediction& p : predictions) {
    char speedup[16] = "-";
    if (bds > 0) std::snprintf(speedup, sizeof speedup, "%.2fx", bds / p.iteration_ms);
    std::printf("%-6s %10.3f %10.3f %10.3f %10.3f %12.3f %8s | %10.3f %10.3f %10.3f %10.3f %10.3f%s\n",
                std::string(to_string(p.kind)).c_str(), p.forward_ms, p.backward_ms, p.exposed_sync_ms,
                p.sync_ms, p.iteration_ms, speedup, p.attention_ms, p.dense_ffn_ms, p.moe_ms, p.moe_comm_ms,
                p.tensor_parallel_ms, p.kind == chosen ? "  <- auto" : "");
  }
  const Recommendation layer = recommend(config, calib);
  std::printf("auto: every MoE block on %s (the fastest iteration); the layer alone would choose %s\n",
              std::string(to_string(chosen)).c_str(), std::string(to_string(layer.chosen)).c_str());
}

}  // namespace parm::cli
