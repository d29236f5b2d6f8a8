// Runs one schedule's op lists (schedule_ir.h) forward and backward on this rank: local ops on the compute
// lane, MP/ESP collectives on the intra lane, EP collectives on the inter lane, each waiting on the previous
// op's event; fused pipelines put their AlltoAll steps and their AllGather/ReduceScatter steps on the two
// communication lanes so step i+1's exchange overlaps step i's gather. Counts bytes and calls per (pass, op,
// group, purpose).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "engine/comm/communicator.h"
#include "engine/core/config.h"
#include "engine/run/flow_tensor.h"
#include "engine/backend/cpu/lanes.h"
#include "engine/run/local_weights.h"
#include "engine/core/rank_layout.h"
#include "engine/core/run_result.h"
#include "engine/schedules/schedule_ir.h"
#include "kernels/cpu/expert_ffn.h"
#include "kernels/cpu/routing.h"
#include "profiler/op_tracer.h"

namespace parm {

template <typename T>
class LayerExecutor {
 public:
  LayerExecutor(const Config& config, const RankLayout& layout, comm::CommGroups& groups, Schedule schedule);

  // x: this rank's MP group's S tokens (S, M), replicated over the group as in training.
  void forward(const std::vector<T>& x);
  // dout: the gradient of the layer output (S, M), replicated over the MP group.
  void backward(const std::vector<T>& dout);

  const Schedule& schedule() const { return schedule_; }
  const std::vector<T>& output() const { return output_; }          // (S, M)
  const std::vector<T>& input_grad() const { return input_grad_; }  // (S, M)
  const LocalWeights<T>& weights() const { return weights_; }
  const LocalGradients<T>& gradients() const { return grads_; }
  const kernels::cpu::Routing& routing() const { return routing_; }
  const std::vector<CommCounter>& counters() const { return counters_; }
  void reset_counters() { counters_.clear(); }

  // Records every op (and every pipeline step) of the following forward/backward calls into `tracer`, tagged
  // with `iteration`; nullptr stops tracing. Names are interned here, not on the hot path.
  void set_trace(profiler::OpTracer* tracer, std::int32_t iteration);

 private:
  struct ExpertState {     // per local expert, forward -> backward
    std::vector<T> input;  // packed rows (rows, M)
    kernels::cpu::ExpertFfnSaved<T> saved;
  };

  struct TraceIds {  // interned names of one op (or one pipeline stage)
    std::int32_t op = 0, group = 0, purpose = 0;
  };

  void run(const std::vector<Op>& ops, Direction direction);
  void apply(const Op& op);
  void run_pipeline(const Op& op, std::size_t index);
  std::function<void()> traced(std::function<void()> work, const TraceIds& ids, Lane lane, Group group,
                               std::int64_t seq, std::int32_t chunk, std::int64_t fixed_bytes = -1);
  std::int64_t next_seq(Group g) { return g == Group::EP ? seq_ep_++ : seq_mp_++; }
  const TraceIds& ids_of(std::size_t op_index, std::size_t stage) const;

  void gate_forward();
  void gate_backward();
  void order_forward();
  void order_backward();
  void experts_forward(const Op& op);
  void experts_backward(const Op& op);
  void combine_forward();
  void combine_backward();
  void split(const Op& op);
  void all_gather(const Op& op);
  void reduce_scatter(const Op& op);
  void all_reduce(const Op& op);
  void all_to_all(const Op& op);
  void grad_all_reduce(const Op& op);

  std::int64_t routing_capacity(const std::vector<std::int32_t>& choices);
  kernels::cpu::ExpertFfnParams<T> expert_params(std::int64_t local_expert) const;
  comm::Communicator& comm_for(Group g, bool fused) const;
  void count(const Op& op, OpKind kind, Group group, std::int64_t elements, const std::string& fused = {});

  const Config& config_;
  RankLayout layout_;
  comm::CommGroups& groups_;
  Schedule schedule_;
  LocalWeights<T> weights_;
  LocalGradients<T> grads_;
  std::unique_ptr<LaneSet> lanes_;

  FlowTensor<T> flow_;
  Direction direction_ = Direction::Forward;
  // Saved by forward for backward.
  std::vector<T> gate_input_;  // tokens the gate saw (T_loc, M)
  std::vector<T> probs_;       // (T_loc, E)
  std::vector<T> combine_weights_;
  std::vector<T> expert_output_;  // the (1, E, C, M) tensor the combine read
  std::vector<T> dweights_;
  kernels::cpu::Routing routing_;
  std::vector<ExpertState> expert_state_;

  std::vector<T> output_;
  std::vector<T> input_grad_;
  std::vector<CommCounter> counters_;
  std::int64_t op_bytes_ =
      0;  // bytes of the op running on the chain (spec size convention), for its trace event

  profiler::OpTracer* tracer_ = nullptr;
  std::int32_t trace_iteration_ = 0;
  std::int32_t trace_schedule_ = 0;
  // [direction][op index][stage] (stage 0 for ops that are not pipelines)
  std::vector<std::vector<TraceIds>> trace_ids_[2];
  std::int64_t seq_mp_ = 0, seq_ep_ = 0;
};

}  // namespace parm
