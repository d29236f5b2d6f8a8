// The alpha-beta cost model of spec parm.md section 6 and the selection rule of section 7. Collective times
// use the spec's size conventions (the same as volumes.h); a fused pipeline over W = N_EP steps costs
// sum(stages) + (W-1) * L, L the largest per-step load of one link: the intra-node link carries the AllGather
// and ReduceScatter steps (two such stages add, as in S2F's RS>A2A>AG), the inter-node link the AlltoAll
// steps; when intra- and inter-node traffic share one link (a single node) L = sum(stages), T = W * sum. The
// timeline model's simulation of the executor's issue order (pipeline_plan.h) lands within a few percent of
// it. A collective over a group of one (N_MP = 1, N_EP = 1) is not executed and costs 0, fused or not: the
// volume lists (schedule_volumes) leave it out, and with N_EP = 1 no step is pipelined, as in
// build_schedule's op lists. Calibration fits these parameters; the worked cases TC-3..TC-5 give them by
// hand.
#pragma once

#include <string>
#include <vector>

#include "engine/core/config.h"
#include "engine/core/sizes.h"
#include "engine/schedules/volumes.h"

namespace parm {

struct AlphaBeta {
  double alpha_ms = 0;          // fixed cost of one call
  double beta_ms_per_byte = 0;  // inverse bandwidth
};

struct CommCostParams {
  AlphaBeta alltoall;        // n = per-GPU send bytes
  double p2p_alpha_ms = 0;   // latency of one pairwise step of a pipelined AlltoAll (its beta is alltoall's)
  AlphaBeta allgather;       // t = alpha + beta * (N-1)/N * output bytes
  AlphaBeta reduce_scatter;  // t = alpha + beta * (N-1)/N * input bytes
  AlphaBeta allreduce;       // t = alpha + beta * 2(N-1)/N * bytes
};

// One priced term: an unfused collective or a whole pipeline.
struct CostTerm {
  std::string what;  // "AlltoAll(EP) dispatch", "SAA dispatch", ...
  double ms = 0;
  bool pipeline = false;
};

struct SchedulePrediction {
  ScheduleKind kind = ScheduleKind::B_DS;
  double forward_comm_ms = 0;
  std::vector<CostTerm> terms;
  std::string dominant() const;  // the largest term, for the recommendation's reason
};

double collective_ms(const CommCostParams& p, Collective c, std::int64_t group_size, std::int64_t bytes);

// Forward communication time of `kind` (the quantity of the worked cases TC-3..TC-5).
SchedulePrediction predict_forward_comm(const Config& config, const DerivedSizes& sizes,
                                        const CommCostParams& p, ScheduleKind kind);

// Argmin of the predicted times; times within 1e-6 relative tie, and ties go to the unfused schedule, then S1
// before S2 (spec section 7, TC-5).
ScheduleKind select_schedule(const std::vector<SchedulePrediction>& predictions);

}  // namespace parm
