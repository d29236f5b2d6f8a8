// The device-memory rule `parm check` applies when a CUDA device answers: one GPU rank's estimate
// (estimate_device_memory, rank_memory.h) must fit its share of the device (the device's memory divided by
// the ranks sharing it, ranks_per_device). validate() alone only compares with an assumed 80 GiB device.
#pragma once

#include <optional>

#include "engine/core/config.h"
#include "engine/core/config_issue.h"
#include "engine/core/rank_memory.h"
#include "engine/core/sizes.h"

namespace parm {

// The issue naming the field to change and the rule, or nullopt when the rank fits (or the backend is cpu).
std::optional<ConfigIssue> device_memory_issue(const Config& config, const DerivedSizes& sizes,
                                               const DeviceLimit& device);

}  // namespace parm
