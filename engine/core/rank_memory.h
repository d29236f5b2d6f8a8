// The memory one rank's buffers need (what the executor and the worker allocate, spec parm.md sections 4-5),
// and what this machine can give each rank. validate() refuses a layout whose buffers cannot fit, before any
// rank allocates: batch 1e12 used to end every rank in std::bad_alloc with no field named.
#pragma once

#include <cstdint>
#include <optional>

#include "engine/core/config.h"
#include "engine/core/sizes.h"

namespace parm {

// Bytes of one rank's buffers at the peak of its most demanding schedule (schedules run one after another).
// A floor, not a bound: allocator overhead, communication buffers and the --verify reference come on top.
struct RankMemory {
  std::int64_t activations = 0;  // token tensors: input, output gradient, output, input gradient, router
  std::int64_t dispatched =
      0;  // the largest dispatched tensor as it enters, leaves and is saved by the experts
  std::int64_t expert_hidden = 0;  // the expert FFN's saved (rows, H/N_ESP) activations
  std::int64_t weights = 0;        // router and the rank's expert shards
  std::int64_t gradients = 0;      // shaped like the weights
  std::int64_t pipeline = 0;       // staging of the fused pipelines (S1F, S2F)
  std::int64_t total = 0;
  ScheduleKind peak_schedule = ScheduleKind::B_DS;
};

// nullopt when a byte count leaves the 64-bit range (the config then needs more than any machine has).
std::optional<RankMemory> estimate_rank_memory(const Config& config, const DerivedSizes& sizes);

// The device memory assumed for each rank of the cuda and cuda+mpi backends: an 80 GiB data-centre GPU
// (A100/H100 80 GB). Stated in the refusal so a user with a smaller device knows the check is optimistic.
inline constexpr std::int64_t kAssumedDeviceMemoryBytes = std::int64_t(80) << 30;

struct MachineLimits {
  std::int64_t host_memory_bytes =
      0;  // physical memory of the host the ranks run on; 0: unknown, not checked
  // How many ranks share that memory; 0: every rank of the configuration (a local run, the emulated cluster).
  std::int64_t ranks_per_host = 0;
  std::int64_t device_memory_bytes = kAssumedDeviceMemoryBytes;  // per rank, cuda backends

  // This machine: physical memory from sysconf, every rank local.
  static MachineLimits this_machine();
};

}  // namespace parm
