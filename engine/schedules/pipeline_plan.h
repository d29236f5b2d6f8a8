// One description of a fused pipeline (spec parm.md sections 3 and 6), shared by the executor, which issues
// it, and the timeline model, which simulates it: W = N_EP pairwise steps of every stage, each stage on the
// lane of its group, issued in wavefront order (wave = step + stage; inside a wave the older step, i.e. the
// later stage, first). On FIFO lanes this order never makes a ready step wait behind one that is not ready,
// and the model simulates exactly this order on the same lanes, so predicted and executed step order per lane
// agree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/schedules/group_specs.h"
#include "engine/schedules/lane.h"
#include "engine/schedules/schedule_ir.h"

namespace parm {

// One stage-step of a pipeline: stage `stage` (index into Op::stages) of pairwise step `step` (0..W-1).
struct PipelineStep {
  std::int64_t step = 0;
  std::size_t stage = 0;
};

// Every (step, stage) of a pipeline of `steps` steps and `stages` stages, in the order it is issued. Stage s
// of step i depends on stage s-1 of step i only (step 0 of stage 0 on the op before the pipeline).
inline std::vector<PipelineStep> pipeline_issue_order(std::int64_t steps, std::size_t stages) {
  std::vector<PipelineStep> order;
  if (steps <= 0 || stages == 0) return order;
  order.reserve(static_cast<std::size_t>(steps) * stages);
  const std::int64_t waves = steps + static_cast<std::int64_t>(stages) - 1;
  for (std::int64_t wave = 0; wave < waves; ++wave) {
    for (std::size_t s = stages; s-- > 0;) {
      const std::int64_t i = wave - static_cast<std::int64_t>(s);
      if (i >= 0 && i < steps) order.push_back({i, s});
    }
  }
  return order;
}

// The lane stage `s` of a pipeline op runs on (its group's lane: intra for MP/ESP, inter for EP).
inline Lane pipeline_stage_lane(const Op& pipeline, std::size_t s) {
  return lane_of(pipeline.stages[s].group);
}

}  // namespace parm
