// The built-in schedules' forward builders and section-5 volume formulas, one pair per schedule, defined in
// one builder file per family (schedule_baselines.cpp, schedule_s1.cpp, schedule_s2.cpp) and listed by the
// registry (schedule_registry.cpp).
#pragma once

#include <vector>

#include "engine/core/config.h"
#include "engine/core/sizes.h"
#include "engine/schedules/schedule_ir.h"
#include "engine/schedules/volumes.h"

namespace parm::builtin {

std::vector<Op> forward_b_ds(const ParallelConfig& parallel);
std::vector<Op> forward_b_ds2(const ParallelConfig& parallel);
std::vector<Op> forward_b0(const ParallelConfig& parallel);
std::vector<Op> forward_s1(const ParallelConfig& parallel);
std::vector<Op> forward_s1f(const ParallelConfig& parallel);
std::vector<Op> forward_s2(const ParallelConfig& parallel);
std::vector<Op> forward_s2f(const ParallelConfig& parallel);

void volumes_b_ds(const Config& config, const DerivedSizes& sizes, VolumeList& out);
void volumes_b_ds2(const Config& config, const DerivedSizes& sizes, VolumeList& out);
void volumes_b0(const Config& config, const DerivedSizes& sizes, VolumeList& out);
void volumes_s1(const Config& config, const DerivedSizes& sizes, VolumeList& out);
void volumes_s1f(const Config& config, const DerivedSizes& sizes, VolumeList& out);
void volumes_s2(const Config& config, const DerivedSizes& sizes, VolumeList& out);
void volumes_s2f(const Config& config, const DerivedSizes& sizes, VolumeList& out);

}  // namespace parm::builtin
