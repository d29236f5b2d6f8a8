// The MPI worker: what each rank of `parm run` executes (launched by mpirun or srun as `parm worker ...`).
#pragma once

#include <chrono>
#include <vector>

#include "engine/comm/communicator.h"
#include "engine/core/config.h"
#include "engine/core/rank_layout.h"
#include "engine/core/run_result.h"
#include "engine/run/gate_logits.h"
#include "engine/run/routing_dump.h"
#include "profiler/gpu_activity.h"
#include "profiler/op_tracer.h"

namespace parm {

struct WorkerOptions {
  std::vector<ScheduleKind> schedules;        // empty: config.run.schedules
  std::chrono::milliseconds timeout{60'000};  // bound on every collective wait
  bool verify = false;                        // compare with the single-process reference after timing
  int die_on_rank = -1;                       // test hook: this rank aborts in the middle of the run
  profiler::OpTracer* tracer = nullptr;       // records every op of the measured iterations when set
  // With `tracer`: the rank's GPU activity (CUPTI kernels, copies, ... and our NVTX ranges) of the measured
  // iterations, where the backend has a capture (cuda); its `unavailable` says why not when it cannot start.
  profiler::GpuActivity* gpu_activity = nullptr;
  // --gate-logits: every schedule's gate routes these logits (this rank's MP group's) instead of x*Wg.
  const GateLogits* gate_logits = nullptr;
  // --dump-routing: receives each schedule's gate calls of this rank (after its last measured iteration).
  std::vector<GateCall>* gate_calls = nullptr;
  // parm run --model: whole-model training steps (config.model), every MoE block on the schedule, instead of
  // the lone layer's forward and backward.
  bool model = false;
};

// Trace events one rank records for `config` (every op and pipeline step of every measured iteration), so the
// tracer's buffer can be sized before the run.
std::size_t expected_trace_events(const Config& config, const std::vector<ScheduleKind>& schedules);

// Runs warm-up + measured iterations of every schedule, forward and backward, on this rank. Collective over
// the world: every rank must call it with the same configuration and options. Throws comm::CommError on a
// timed-out collective. With options.verify each schedule's result carries its VerifyReport (passed or not).
RankRunResult run_worker_rank(const Config& config, const WorkerOptions& options, const RankLayout& layout,
                              comm::CommGroups& groups);

}  // namespace parm
