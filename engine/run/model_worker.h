// What a rank of `parm run --model` executes per schedule (issue 18): warm-up and measured training steps of
// the whole model with every MoE block on that schedule, timed by the step's events.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/comm/communicator.h"
#include "engine/core/config.h"
#include "engine/core/rank_layout.h"
#include "engine/core/run_result.h"
#include "engine/run/worker.h"

namespace parm {

// Collective over the world. `measured_allocations` grows by the allocator calls of the measured steps.
RankScheduleResult run_model_schedule(backend::Backend& backend, const Config& config,
                                      const WorkerOptions& options, const RankLayout& layout,
                                      comm::CommGroups& groups, ScheduleKind kind, bool die_here,
                                      std::int64_t& measured_allocations);

// A bound on the trace events one rank records in a model run (the tracer's buffer is sized before it).
std::size_t expected_model_trace_events(const Config& config, const std::vector<ScheduleKind>& schedules);

}  // namespace parm
