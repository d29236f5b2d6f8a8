// The devices a run's ranks computed on, as `parm run` prints them: one line per distinct device description
// (name, memory, driver), naming its ranks ("rank 0-3: NVIDIA H200 (139.8 GiB), CUDA driver 13.0"; a cpu
// run: "rank 0-3: cpu").
#pragma once

#include <string>
#include <vector>

#include "engine/core/run_result.h"

namespace parm {

// "NVIDIA H200 (139.8 GiB), CUDA driver 13.0"; "cpu" for the host.
std::string describe_device(const RankDevice& device);

// "0-3", "0,2,5-7": ascending rank numbers as ranges.
std::string rank_ranges(std::vector<int> ranks);

// One "rank R: description" per distinct description, in order of the first rank using it.
std::vector<std::string> device_lines(const std::vector<RankRunResult>& ranks);

}  // namespace parm
