// A calibration: alpha-beta fits of every collective on a layout's own communicators and of the compute
// kernels, measured by `parm calibrate` and consumed by the cost model (`parm predict`, `recommend`, `sweep`,
// `validate`). Stored as JSON (a file users carry from a cluster to a laptop) and in the project database.
#pragma once

#include <cstdint>
#include <map>
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
// calibration), "experts" / "experts_bwd" (the expert op per expert call, n = rows*M*Hs*G), "gate", "order",
// "combine" (n = elements touched). `communicator` names the group ("EP", "MP", "local"); a collective is
// fitted once per communicator it was measured on ("EP", "EP#fused", "MP", "ESP", "MP#fused", "ESP#fused",
// and "EP-intra" / "EP-inter", the hierarchical AlltoAll's sub-groups), the one the cost model reads first.
// Compute at another dtype than the calibration's carries it as a suffix
// ("gemm_bf16", "experts_fp16"); `shape` says what shape family a compute fit holds ("M 1024, Hs 2048, ...").
struct CalibrationFit {
  std::string op;
  std::string communicator;
  int group_size = 1;
  LinearFit fit;                   // t_ms = alpha + beta * n
  std::vector<FitSample> samples;  // median per size
  std::string shape;               // the shape family of a compute fit; empty for collectives and old files
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
  // Where it ran (empty in calibrations made before these were recorded): the transport that carried the
  // collectives ("NCCL 2.28.9", "MPI staged through pinned host memory (Open MPI v4.1.4)", "Open MPI
  // v4.1.4"), the backend's communication library (DeviceDescription::comm_library; empty on cpu), each
  // rank's device (index = world rank), the NCCL_* variables of rank 0's process, and where NCCL's topology
  // choice is.
  std::string transport;
  std::string comm_library;
  std::vector<std::string> devices;
  std::map<std::string, std::string> nccl_env;
  std::string nccl_topology;

  // The first fit of `op` (the one the cost model reads), or of `op` on `communicator`.
  const CalibrationFit* find(const std::string& op) const;
  const CalibrationFit* find(const std::string& op, const std::string& communicator) const;
  // The cost model's parameters; throws std::runtime_error naming a missing fit. Groups of one rank need no
  // fit (their collectives cost 0).
  CommCostParams comm_params() const;
};

nlohmann::json to_json(const Calibration& c);
// Validates every value as it reads: finite numbers; 0 <= alpha, beta <= 1e6; r2 <= 1; 1 <= interference <=
// 1000; group_size >= 1; integers where integers belong; one fit per (op, communicator); the recorded
// environment, when present, as strings (devices an array of them, nccl_env an object of NCCL_* names).
// Throws std::runtime_error with one line naming the field path and the rule ("fits[3].beta = -0.001: must be
// >= 0 (ms per unit)").
Calibration calibration_from_json(const nlohmann::json& j);
// Reads PATH through engine/json_input.h; the message starts with PATH.
Calibration load_calibration_file(const std::string& path);
void save_calibration_file(const Calibration& c, const std::string& path);

// A calibration applies to a configuration measured on the same layout shape: same N_MP, N_ESP, G and nodes
// count (P). Returns the one-line reason when it does not.
std::optional<std::string> calibration_mismatch(const Calibration& c, const Config& config);

}  // namespace parm
