// The predicted timeline of one schedule (spec parm.md sections 5 and 6): every op of the forward and the
// backward list (build_schedule) as an interval [start, end) in ms on the lane the executor runs it on (0
// compute, 1 intra = MP/ESP collectives, 2 inter = EP collectives). Ops run one after the other in list
// order; a pipeline expands into W = N_EP steps per stage, simulated in the executor's own issue order
// (pipeline_issue_order, engine/schedules/pipeline_plan.h) on FIFO lanes: stage s of step i starts after
// stage s-1 of step i and after everything issued to its lane before it, so stages on different lanes overlap
// across steps and the two intra-node stages of S2F's RS>A2A>AG take turns on the intra lane. On one node the
// stages share the link and run serially in issue order (W*sum). forward_comm_ms is the closed form of
// section 6 (predict_forward_comm: sum + (W-1) * the busiest link's per-step load), which the simulated
// forward of a pipeline matches within a few percent (the simulation fills the pipeline a little faster).
//
// Collective times: the calibration's alpha-beta fits (cost_model.h conventions), plus the local data
// movement the executor does around them (the "copy" fit: fresh output buffers, capacity reshuffles, Split).
// A collective over a group of one (N_MP = 1, N_EP = 1) is not in the lists at all (spec section 6: not
// executed, costs 0, fused or not), so it has no interval and no charge. Compute: the "experts" /
// "experts_bwd" fits of the executor's own expert op (FFN with bias, activation and packing, per expert call
// of rows*M*H_shard*G multiply-adds, G = 2 GEMMs or 3 with SwiGLU); older calibrations without them fall back
// to the bare "gemm" fit (backward = 2 x forward); the "gate" / "order" / "combine" fits when present
// (otherwise 0, noted). Fused pipelines: each stage-step is the alpha-beta step plus the "pipeline" fit's
// extra (lane handoffs, placing chunks, the slowdown of overlapped traffic, all measured on the real
// overlapped SAA structure, against the bytes of one exchange step; read from its samples by interpolation,
// since it jumps once a step overflows the transport's buffers); calibrations without it multiply the steps
// of a multi-node pipeline by the interference factor instead. Either way the time added over the plain steps
// is reported as interference_ms, and forward_comm_ms stays the paper's (interference-free) quantity, equal
// to predict_forward_comm. Synchronisation (the "sync" / "sync_mp" fits of `parm calibrate`, per EP / MP
// group): each collective waits for the slowest peer in proportion to the compute done since the previous
// collective (ranks drift apart while they compute); the fits' fixed part is stored but not charged. A
// hierarchical (2DH) AlltoAll (alltoall_algorithm.h) is the "alltoall" fits of EP-intra and EP-inter over
// the whole send buffer each, plus four passes of the copy fit (two fresh outputs, two block transposes); a
// calibration without those fits is refused for it, naming the fit.
#pragma once

#include <string>
#include <vector>

#include "engine/core/config.h"
#include "engine/core/sizes.h"
#include "engine/model/calibration.h"
#include "engine/model/cost_model.h"
#include "engine/schedules/lane.h"
#include "engine/schedules/schedule_ir.h"

namespace parm {

struct PredictedInterval {
  int phase = 0;              // 0 forward, 1 backward
  std::size_t op = 0;         // index in the forward / backward list
  std::string name;           // Op::name() or, for a pipeline step, "SAA/AlltoAll"
  std::string group;          // "EP", "MP", "ESP", "-"
  std::string purpose;        // the op's label
  Lane lane = Lane::Compute;  // engine/schedules/lane.h
  int chunk = -1;             // pipeline step, -1 outside pipelines
  std::int64_t bytes = 0;     // spec-convention bytes (a pipeline step: its 1/W share)
  double start_ms = 0;
  double end_ms = 0;
};

struct TimelinePrediction {
  ScheduleKind kind = ScheduleKind::B_DS;
  std::vector<PredictedInterval> intervals;  // forward then backward, each in start order
  double forward_ms = 0;
  double backward_ms = 0;
  double layer_ms = 0;         // forward + backward
  double forward_comm_ms = 0;  // communication of the forward pass, without interference
  double forward_compute_ms = 0;
  double compute_ms = 0;           // compute of both passes (layer_ms - compute_ms: exposed communication)
  double interference_ms = 0;      // time overlapped pipelines add over their plain steps (fwd + bwd)
  double sync_ms = 0;              // waits for the slowest peer ("sync", "sync_mp" drift), both passes
  std::vector<CostTerm> terms;     // every op's time (forward and backward), for the dominant term
  std::vector<std::string> notes;  // e.g. "no 'gate' fit: gate time 0"
  std::string dominant() const;    // the largest term
};

// Throws std::runtime_error naming a missing communication fit.
TimelinePrediction predict_timeline(const Config& config, const DerivedSizes& sizes, const Calibration& calib,
                                    ScheduleKind kind);

// Argmin over (kind, ms) pairs with select_schedule's tie rule (1e-6 relative; unfused first, S1 before S2).
ScheduleKind select_by_time(const std::vector<std::pair<ScheduleKind, double>>& times);

}  // namespace parm
