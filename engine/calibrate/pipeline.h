// The fused pipeline's overhead: what the model's per-step prices (from the p2p, AlltoAll and AllGather fits)
// miss when the executor runs a fused SAA pipeline (lane handoffs per step, the placement copies; over an MP
// group of one the pipeline is its AlltoAll steps alone, as in the schedules), fitted per stage-step against
// the bytes of one step: "pipeline".
#pragma once

#include <ostream>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/calibrate/harness.h"
#include "engine/calibrate/measurement.h"
#include "engine/comm/communicator.h"
#include "engine/core/config.h"
#include "engine/core/rank_layout.h"

namespace parm::calibrate {

// Appends "pipeline" (EP) to `fits`; needs the "p2p" and "alltoall" fits already in `fits` (not measured
// without them, or with an EP group of one rank).
// The executor runs on `backend` over the transport `groups`.
void time_pipeline(const Config& config, const RankLayout& layout, backend::Backend& backend,
                   comm::CommGroups& groups, const Harness& harness, std::vector<Measurement>& fits,
                   std::ostream& table);

}  // namespace parm::calibrate
