// The memory one rank's buffers need (what the executor and the worker allocate, spec parm.md sections 4-5),
// and what this machine can give each rank. validate() refuses a layout whose buffers cannot fit, before any
// rank allocates: batch 1e12 used to end every rank in std::bad_alloc with no field named.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

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
  std::int64_t widest = 0;         // one copy of the widest dispatched tensor (collective buffer)
  std::int64_t total = 0;
  ScheduleKind peak_schedule = ScheduleKind::B_DS;
};

// nullopt when a byte count leaves the 64-bit range (the config then needs more than any machine has).
std::optional<RankMemory> estimate_rank_memory(const Config& config, const DerivedSizes& sizes);

// What one rank of the cuda and cuda+mpi backends holds on its device: RankMemory's buffers (b bytes per
// element of layer.dtype) and what a GPU rank holds besides them. With S tokens per MP group, E experts, k
// choices and W = RankMemory::widest:
//   saved_for_backward = 2*S*E*4 + 3*S*k*4   fp32 gate logits and probabilities, and per choice the expert,
//                                            its position and its combine weight (fp32/int32 whatever b)
//   pass_buffers       = 2*W                 out-of-place layout transforms: one on the compute lane, one
//                                            waiting for its collective on a communication lane
//   cublas_workspace   = 32 MiB              cuBLAS's default workspace on Hopper, one handle per rank
//   context            = 512 MiB             the process's CUDA context and loaded modules (cudart, cuBLAS,
//                                            NCCL kernels): every cuda+mpi rank sharing a device has its own
//   device total       = buffers + saved_for_backward + pass_buffers + cublas_workspace + context
//   host_staging       = 4*W for cuda+mpi    pinned host buffers, a send and a receive copy per communication
//                                            lane (intra, inter); host memory, not compared with the device
// Like RankMemory a floor: the caching allocator's rounding and the --verify reference come on top.
struct DeviceRankMemory {
  std::int64_t buffers = 0;
  std::int64_t saved_for_backward = 0;
  std::int64_t pass_buffers = 0;
  std::int64_t cublas_workspace = 0;
  std::int64_t context = 0;
  std::int64_t total = 0;         // on the device
  std::int64_t host_staging = 0;  // pinned host memory (cuda+mpi)
};

inline constexpr std::int64_t kCublasWorkspaceBytes = std::int64_t(32) << 20;
inline constexpr std::int64_t kCudaContextBytes = std::int64_t(512) << 20;

// nullopt when a byte count leaves the 64-bit range.
std::optional<DeviceRankMemory> estimate_device_memory(const Config& config, const DerivedSizes& sizes,
                                                       const RankMemory& buffers);

// A device a check compares with: the smallest that answers on this host.
struct DeviceLimit {
  std::string name;                // "NVIDIA H200"
  std::int64_t memory_bytes = 0;   // its memory
  int devices = 1;                 // devices on this host
  std::int64_t ranks_on_host = 0;  // ranks of the run on this host (a local run: every rank)
};

// Ranks that share one device: cuda+mpi spreads the host's ranks over its devices; cuda (NCCL) has one
// device per rank.
std::int64_t ranks_per_device(Backend backend, const DeviceLimit& device);

// The device memory one rank of `config` may use there: the device's memory divided by the ranks sharing it.
std::int64_t device_share(Backend backend, const DeviceLimit& device);

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
