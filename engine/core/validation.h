// The rules a configuration must satisfy before anything runs (spec parm.md section 1 and the backends).
// Every violated rule is reported at once; layouts that run but perform badly are warnings.
#pragma once

#include <cstdint>
#include <string>
#include <utility>

#include "engine/core/config.h"
#include "engine/core/config_issue.h"
#include "engine/core/rank_memory.h"

namespace parm {

// Pure: `machine` says how much memory each rank may use (tests pass their own). Beyond the per-field rules,
// every derived size must fit 64 bits and one rank's buffers (estimate_rank_memory) must fit the memory of
// the host (its physical memory shared by the ranks on it; backend cpu) or of the device (backend cuda,
// cuda+mpi: MachineLimits::device_memory_bytes, 80 GiB unless stated).
ConfigIssues validate(const Config& config, const MachineLimits& machine);

// validate(config, MachineLimits::this_machine()): every rank on this machine.
ConfigIssues validate(const Config& config);

// The memory one rank of `config` may use on `machine`: the device memory assumed per rank (cuda backends) or
// the host's physical memory divided by the ranks sharing it (cpu); `where` names it for a refusal. bytes 0:
// unknown (cpu with no host memory known), nothing to compare with.
struct RankMemoryLimit {
  std::int64_t bytes = 0;
  std::int64_t sharing = 1;  // ranks sharing the host (cpu)
  std::string where;
};
RankMemoryLimit rank_memory_limit(const Config& config, const MachineLimits& machine);

// "5.9 GiB", "12.0 MiB", "1.1 PiB": byte counts in refusals.
std::string gib(std::int64_t bytes);

// The field to name for a rank's buffers that do not fit: the largest size behind the biggest part of `m`.
std::pair<const char*, std::int64_t> memory_driver(const LayerConfig& layer, const RankMemory& m);

}  // namespace parm
