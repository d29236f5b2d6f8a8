// The step timeline of a run's fused pipelines (SAA, RSA, RS>A2A>AG): per pipeline, rank, stage and step the
// measured start and end relative to the pipeline's first step (spread over the measured iterations) next to
// the stored prediction's, and per lane whether the steps ran, and were simulated, in the order the executor
// issues them (pipeline_plan.h's wavefront order filtered to that lane). Pure functions over stored intervals
// whose strings are already resolved; pipeline_steps_load.h reads them from a project.
//
// Steps are identified by name: a traced step is "SAA:AlltoAll" with chunk = step, a predicted one
// "SAA/AlltoAll" without a step (the predictions table has no chunk column), so a predicted step is the k-th
// interval of its (phase, name, purpose) in start order: occurrence k / W, step k % W (one stage's steps run
// in step order on one FIFO lane, and a pass runs its pipelines one after the other).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "engine/model/spread.h"
#include "engine/schedules/lane.h"
#include "engine/schedules/pipeline_plan.h"
#include "engine/schedules/schedule_ir.h"

namespace parm {

// One stored interval that may be a stage-step of a fused pipeline.
struct StepSample {
  std::string schedule;  // "S2F"
  int rank = 0;
  int iteration = 0;  // < 0: warm-up, ignored
  int phase = 0;      // 0 forward, 1 backward
  std::string op;     // "SAA:AlltoAll" (trace) or "SAA/AlltoAll" (prediction); others are ignored
  std::string purpose;
  int chunk = -1;  // the step; -1 when not stored (predictions)
  std::int64_t start_ns = 0;
  std::int64_t end_ns = 0;
};

// One fused pipeline of a schedule's forward or backward list.
struct PipelineOp {
  int phase = 0;
  std::size_t index = 0;            // in the forward / backward list
  std::string name;                 // Op::name(): "SAA", "RSA", "RS>A2A>AG"
  std::string purpose;              // Op::label
  std::size_t occurrence = 0;       // among the pass's pipelines of the same name and purpose, in list order
  std::vector<std::string> stages;  // to_string(OpKind) of each stage, in data order
  std::vector<Lane> lanes;          // pipeline_stage_lane of each stage
};

// The pipelines of `schedule`, forward list first.
std::vector<PipelineOp> pipelines_of(const Schedule& schedule);

// pipeline_issue_order(steps, stages) keeping the stage-steps that run on `lane`: the order the executor
// enqueues them on that lane's FIFO stream, hence the order they start and end in.
std::vector<PipelineStep> lane_issue_order(const PipelineOp& pipeline, std::int64_t steps, Lane lane);

struct StepRow {
  std::size_t pipeline = 0;  // index in StepTimeline::pipelines
  int rank = 0;
  std::size_t stage = 0;
  std::int64_t step = 0;
  Lane lane = Lane::Compute;
  Spread measured_start_ms;  // from the pipeline's first start on this rank, over the measured iterations
  Spread measured_end_ms;
  std::optional<double> predicted_start_ms;  // from the predicted pipeline's first start
  std::optional<double> predicted_end_ms;
  int issue_position = 0;       // on its lane, in lane_issue_order
  int measured_position = -1;   // on its lane, by median measured start (-1: never measured)
  int predicted_position = -1;  // on its lane, by predicted start (-1: not predicted)
};

struct PipelineCheck {
  std::size_t pipeline = 0;
  int rank = 0;
  Spread measured_span_ms;  // first start to last end, over the measured iterations
  std::optional<double> predicted_span_ms;
  int iterations = 0;           // measured iterations with every stage-step traced
  int iterations_in_order = 0;  // of them, those whose every lane started and ended its steps in issue order
  std::string first_disorder;   // the first measured lane order that differs, as text ("" when none)
  std::optional<bool> predicted_in_order;  // the prediction's lane orders (by start and by end) = issue order
  std::string predicted_disorder;          // the first predicted lane order that differs
};

struct StepTimeline {
  std::string schedule;
  std::int64_t steps = 0;  // W = N_EP
  std::vector<PipelineOp> pipelines;
  std::vector<PipelineCheck> checks;  // by (pipeline, rank)
  std::vector<StepRow> rows;          // by (pipeline, rank), then pipeline_issue_order
  int slowest_rank = -1;              // largest sum of median pipeline spans; -1 when nothing was measured
};

// The step timeline of `schedule` (built for the run's layout) with W = `steps`, from the run's traced
// intervals and its stored prediction (the prediction is rank-symmetric: its rows apply to every rank).
// Samples of other schedules, ops outside the schedule's pipelines and warm-up iterations are ignored.
StepTimeline step_timeline(const Schedule& schedule, std::int64_t steps, std::span<const StepSample> measured,
                           std::span<const StepSample> predicted);

// "S1 AlltoAll 0, S0 ReduceScatter 1, ...": a lane order as text, stage index and name, then the step.
std::string order_text(const PipelineOp& pipeline, const std::vector<PipelineStep>& order);

}  // namespace parm
