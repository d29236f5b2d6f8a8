// The rules a configuration must satisfy before anything runs (spec parm.md section 1 and the backends).
// Every violated rule is reported at once; layouts that run but perform badly are warnings.
#pragma once

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

}  // namespace parm
