// A calibration: alpha-beta fits of every collective on a layout's own communicators and of the compute
// kernels, measured by `parm calibrate` and consumed by the cost model (`parm predict`, `recommend`, `sweep`,
// `validate`). Stored as JSON (a file users carry from a cluster to a laptop) and in the project database.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/config.h"
#include "engine/model/cost_model.h"
#include "engine/model/fit.h"

namespace parm {

// One fitted operation. `op` is one of: "alltoall" (EP, n = per-GPU send bytes), "p2p" (one pairwise step of
// a pipeline on the EP fused communicator, n = bytes sent), "allgather" / "reducescatter" / "allreduce" (MP
// group, n = bytes in the spec's convention of cost_model.h), "gemm" (n = m*n*k multiply-adds, fp of the
// calibration), "gate", "order", "combine" (n = elements touched). `communicator` names the group ("EP",
// "MP", "local").
struct CalibrationFit {
  std::string op;
  std::string communicator;
  int group_size = 1;
  LinearFit fit;                   // t_ms = alpha + beta * n
  std::vector<FitSample> samples;  // median per size
};

struct Calibration {
  std::string id;  // e.g. "calib-2026-11-27T23:10:00Z-default"
  std::string created_at;
  std::string host;
  ParallelConfig layout;  // the layout it was measured on (P, G, N_MP, N_ESP)
  DType dtype = DType::Fp32;
  std::string backend = "cpu";
  std::string cluster;  // emulated cluster name, or empty
  // Measured slowdown of communication overlapped with compute or other traffic (>= 1).
  double interference = 1.0;
  std::vector<CalibrationFit> fits;

  const CalibrationFit* find(const std::string& op) const;
  // The cost model's parameters; throws std::runtime_error naming a missing fit. Groups of one rank need no
  // fit (their collectives cost 0).
  CommCostParams comm_params() const;
};

nlohmann::json to_json(const Calibration& c);
// Validates every value as it reads: finite numbers; 0 <= alpha, beta <= 1e6; r2 <= 1; 1 <= interference <=
// 1000; group_size >= 1; integers where integers belong; one fit per (op, communicator). Throws
// std::runtime_error with one line naming the field path and the rule ("fits[3].beta = -0.001: must be >= 0
// (ms per unit)").
Calibration calibration_from_json(const nlohmann::json& j);
// Reads PATH through engine/json_input.h; the message starts with PATH.
Calibration load_calibration_file(const std::string& path);
void save_calibration_file(const Calibration& c, const std::string& path);

// A calibration applies to a configuration measured on the same layout shape: same N_MP, N_ESP, G and nodes
// count (P). Returns the one-line reason when it does not.
std::optional<std::string> calibration_mismatch(const Calibration& c, const Config& config);

}  // namespace parm
