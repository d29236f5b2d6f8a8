// What a distributed run measured: per rank, per schedule, per iteration times and communication counters.
// Rank 0 gathers every rank's part and writes it as JSON; `parm run` reads it back and summarises.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/config.h"
#include "engine/core/verify_result.h"

namespace parm {

// Bytes and calls of one (pass, op, group, purpose) on one rank. `bytes` follows the spec's size convention
// (AlltoAll per-GPU send, AllGather output, ReduceScatter input, AllReduce buffer) so it compares with
// volumes.h.
struct CommCounter {
  std::string pass;     // "fwd" / "bwd"
  std::string op;       // "AlltoAll", "AllGather", "ReduceScatter", "AllReduce"
  std::string group;    // "EP", "MP", "ESP"
  std::string purpose;  // the IR op's label: "dispatch", "combine", "expert output", ...
  std::string fused;    // "SAA", "RSA", "RS>A2A>AG" when part of a fused pipeline, else empty
  std::int64_t bytes = 0;
  std::int64_t calls = 0;
};

struct RankScheduleResult {
  ScheduleKind kind = ScheduleKind::B_DS;
  std::vector<double> forward_s;       // one per measured iteration
  std::vector<double> backward_s;      // one per measured iteration
  std::vector<CommCounter> counters;   // over one forward + backward (the first measured iteration)
  std::int64_t capacity = 0;           // capacity used by this rank's routing
  std::int64_t dropped_choices = 0;    // (token, choice) pairs over capacity on this rank's gate
  std::optional<VerifyReport> verify;  // with --verify: the same collective report on every rank
  // Whole-model runs (parm run --model, issue 18): forward_s is the step's forward (embedding to loss),
  // backward_s the rest of the step (the backward and the gradient sync it leaves exposed), so forward +
  // backward is the iteration everywhere a total is read. Per measured iteration: the sync exposed after the
  // backward, and every gradient AllReduce's time summed (hidden or not); the step's mean loss. Empty /
  // absent for a layer run.
  std::vector<double> exposed_sync_s{};
  std::vector<double> sync_s{};
  std::optional<double> loss{};
};

// Where a rank computed (backend::Backend::device()) and what its backend's allocator did (memory_stats()).
struct RankDevice {
  std::string name = "cpu";       // "NVIDIA H200", or "cpu"
  int ordinal = -1;               // CUDA ordinal; -1 for the host
  std::int64_t memory_bytes = 0;  // the device's memory; 0 for the host
  std::string driver{};           // "CUDA driver 13.0, runtime 13.0"; empty for the host
  std::int64_t peak_bytes = 0;    // the most the backend's buffers held at once, over the whole run
  std::int64_t allocations = 0;   // allocator calls during the measured iterations of every schedule
  // GPU properties (backend::DeviceDescription; 0 / empty for the host), for TARGET_INFO_GPU. Optional in
  // JSON: results written before issue 15 read as empty.
  std::string bus_location{};  // "0000:1b:00.0"
  std::string uuid{};          // "GPU-xxxxxxxx-..."
  int sm_count = 0, compute_major = 0, compute_minor = 0;
  std::int64_t clock_rate_khz = 0, memory_bandwidth_bytes_s = 0, l2_cache_bytes = 0;
  std::string comm_library{};  // "NCCL 2.28.9"; empty where MPI carries the collectives
};

struct RankRunResult {
  int rank = 0;
  std::string host;
  std::vector<RankScheduleResult> schedules;
  RankDevice device{};  // absent from results written before issue 14: read as the cpu default
};

struct RunResult {
  Config config;
  bool model = false;                // a whole model's iterations (config.model), not the lone layer's
  std::string backend;               // "cpu", ...
  std::vector<RankRunResult> ranks;  // index = world rank
};

// One row of the `parm run` table: max over ranks within an iteration, then median over iterations.
struct ScheduleSummary {
  ScheduleKind kind = ScheduleKind::B_DS;
  double forward_ms = 0;
  double backward_ms = 0;
  double total_ms = 0;                   // median over iterations of max over ranks of (fwd + bwd)
  std::optional<double> speedup_vs_bds;  // B_DS total / this total, when B_DS ran
  std::int64_t intra_bytes = 0;          // rank 0's counted bytes on MP/ESP groups (fwd + bwd)
  std::int64_t inter_bytes = 0;          // rank 0's counted bytes on the EP group (fwd + bwd)
  // Whole-model runs: medians over iterations of the slowest rank's exposed and total gradient sync; the
  // loss.
  double exposed_sync_ms = 0;
  double sync_ms = 0;
  std::optional<double> loss{};
};

std::vector<ScheduleSummary> summarize(const RunResult& result);

nlohmann::json to_json(const RankRunResult& r);
RankRunResult rank_run_result_from_json(const nlohmann::json& j);
nlohmann::json to_json(const RunResult& r);
RunResult run_result_from_json(const nlohmann::json& j);  // throws std::runtime_error naming the bad field

}  // namespace parm
