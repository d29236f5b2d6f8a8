// Runs one schedule's op lists (schedule_ir.h) forward and backward on this rank by enqueueing them on a
// backend (engine/backend): local ops on the compute stream, MP/ESP collectives on the intra stream, EP
// collectives on the inter stream, each waiting on the previous op's event; fused pipelines put their steps
// on the two communication streams so step i+1's exchange overlaps step i's gather. Every shape, buffer,
// byte counter and trace size is decided here while enqueueing; the tasks only move data. The one host
// decision inside a pass is the CapacitySync op (no-drop capacity agreed over the world).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/backend/activity_capture.h"
#include "engine/backend/backend.h"
#include "engine/comm/communicator.h"
#include "engine/core/config.h"
#include "engine/core/rank_layout.h"
#include "engine/core/run_result.h"
#include "engine/run/flow_tensor.h"
#include "engine/run/local_weights.h"
#include "engine/schedules/chunk_plan.h"
#include "engine/schedules/schedule_ir.h"
#include "profiler/nvtx_ranges.h"
#include "profiler/op_tracer.h"

namespace parm {

// T: float, double, Bf16 or F16 (16-bit storage; the backend computes them with fp32 accumulation, and one
// without 16-bit compute, the cpu backend, refuses them in the constructor with one line).
template <typename T>
class LayerExecutor {
 public:
  // On the backend config.run.backend names, owned by the executor.
  LayerExecutor(const Config& config, const RankLayout& layout, comm::CommGroups& groups, Schedule schedule);
  // On a backend the caller owns (one per rank, shared by its executors).
  LayerExecutor(backend::Backend& backend, const Config& config, const RankLayout& layout,
                comm::CommGroups& groups, Schedule schedule);
  ~LayerExecutor();
  LayerExecutor(const LayerExecutor&) = delete;
  LayerExecutor& operator=(const LayerExecutor&) = delete;

  // x: this rank's MP group's S tokens (S, M), replicated over the group as in training.
  void forward(const std::vector<T>& x);
  // dout: the gradient of the layer output (S, M), replicated over the MP group.
  void backward(const std::vector<T>& dout);

  // A whole model's entry (issue 18): enqueues the pass on a device view of x (forward) or dout (backward),
  // (S, M) replicated over the MP group as above, its first op ordered after `after` (recorded on
  // `after_lane`; nullptr: no order), and returns where it ends. Nothing waits: once the caller has
  // synchronized the backend, finish_passes() turns the passes' events into traced ops.
  struct PassEnd {
    backend::Event* event = nullptr;
    Lane lane = Lane::Compute;
    backend::View<T> result;  // the output (forward) or the input gradient (backward)
  };
  PassEnd enqueue_forward(backend::View<T> x, backend::Event* after, Lane after_lane);
  PassEnd enqueue_backward(backend::View<T> dout, backend::Event* after, Lane after_lane);
  void finish_passes();
  // The parameter gradients in the backend's memory (what a data-parallel sync reduces in place).
  DeviceTensors<T>& device_gradients() { return device_grads_; }

  // Host conveniences: copies out of the backend's buffers, made on first use after a pass.
  const Schedule& schedule() const { return schedule_; }
  const std::vector<T>& output() const;      // (S, M)
  const std::vector<T>& input_grad() const;  // (S, M)
  const LocalWeights<T>& weights() const { return weights_; }
  const LocalGradients<T>& gradients() const;
  const backend::HostRouting& routing() const;
  // Host copies of the last forward's gate probabilities (gated tokens, E) and combine weights (gated
  // tokens, k; 0 for a dropped choice).
  std::vector<T> gate_probabilities() const;
  std::vector<T> combine_weights() const;
  // The first of this rank's MP group's S tokens that its gate routes (S1 and S1F gate slice mp_index).
  std::int64_t gate_token_offset() const { return gate_offset_; }

  // `parm run --gate-logits`: the gate routes these (S, E) logits of this rank's MP group instead of x*Wg.
  // They depend on neither x nor Wg, so the backward gives dWg = 0 and dX without a gate term.
  void set_gate_logits(const std::vector<T>& group_logits);
  const std::vector<CommCounter>& counters() const { return counters_; }
  void reset_counters() { counters_.clear(); }

  // Records every op (and every pipeline step) of the following forward/backward calls into `tracer`, tagged
  // with `iteration`; nullptr stops tracing. Names are interned here, not on the hot path.
  // `purpose_prefix` ("block3 ") goes before every op's purpose: a whole model's MoE blocks tell their
  // layers' ops apart (fixed by the first call that traces).
  void set_trace(profiler::OpTracer* tracer, std::int32_t iteration, const std::string& purpose_prefix = {});
  // While tracing: brackets each traced op's launches with capture->push_launch(launch id) / pop_launch()
  // when the capture is live (unavailable() empty), and keeps the NVTX ranges in `nvtx_log` when set. Neither
  // is owned; nullptr stops it. NVTX ranges themselves are pushed always (cheap without a tool).
  void set_gpu_capture(backend::ActivityCapture* capture, profiler::NvtxRangeLog* nvtx_log);

 private:
  struct TraceIds {  // interned names of one op (or one pipeline stage)
    std::int32_t op = 0, group = 0, purpose = 0;
  };
  struct PendingTrace {  // filled from the events' times once the pass has run
    profiler::TraceEvent event;
    backend::Event* start = nullptr;
    backend::Event* end = nullptr;
  };
  // Where the previous op ended: the next op on another stream waits for it.
  struct Tail {
    backend::Event* event = nullptr;
    Lane lane = Lane::Compute;
  };

  LayerExecutor(std::unique_ptr<backend::Backend> owned, backend::Backend* shared, const Config& config,
                const RankLayout& layout, comm::CommGroups& groups, Schedule schedule);

  void run(const std::vector<Op>& ops, Direction direction);
  void enqueue_pass(const std::vector<Op>& ops, Direction direction, Tail start);
  PassEnd enqueue_on(backend::View<T> input, Direction direction, backend::Event* after, Lane after_lane);
  void enqueue(const Op& op, std::size_t index);
  void run_pipeline(const Op& op, std::size_t index);
  // Pipeline degree r (chunk_plan.h): the ChunkSplit at `split_index`, the chunked ops once per chunk in
  // wavefront order, the ChunkMerge; returns the merge's index.
  std::size_t run_chunked(const std::vector<Op>& ops, std::size_t split_index);
  // Before the backward's experts: the forward's saved states cut as the backward's chunks `to` (empty: one
  // unchunked pass), on the compute stream; a no-op when both passes cut the same slots.
  void regroup_expert_states(std::vector<SlotRange> to);
  // Orders `lane`'s stream after `after` (recorded on `after_lane`), opens the op's NVTX range (`message`)
  // and launch bracket, and, when tracing, takes its launch id and records its start into *start; returns
  // the stream.
  backend::Stream& begin(Lane lane, backend::Event* after, Lane after_lane,
                         const profiler::NvtxMessage& message, backend::Event** start);
  // Records the op's end on `lane`, which becomes the tail, closes what begin opened; traces it when tracing.
  backend::Event* end(Lane lane, const TraceIds* ids, Group group, std::int64_t seq, std::int32_t chunk,
                      std::int64_t bytes, backend::Event* start);
  std::int64_t next_seq(Group g) { return g == Group::EP ? seq_ep_++ : seq_mp_++; }
  const TraceIds* ids_of(std::size_t op_index, std::size_t stage) const;
  const profiler::NvtxMessage& message_of(std::size_t op_index, std::size_t stage) const {
    return nvtx_messages_[direction_ == Direction::Forward ? 0 : 1][op_index][stage];
  }
  void register_nvtx_messages();

  backend::View<T> allocate(std::int64_t count);
  backend::Event* next_event();

  void gate_forward();
  void capacity_sync();
  void gate_backward();
  void order_forward();
  void order_backward();
  void experts_forward();
  void experts_backward(const Op& op);
  void combine_forward();
  void combine_backward();
  void split(const Op& op);
  void all_gather(const Op& op);
  void reduce_scatter(const Op& op);
  void all_reduce(const Op& op);
  void all_to_all(const Op& op);
  void grad_all_reduce(const Op& op);

  std::int64_t rule_capacity() const;
  backend::StreamCommunicator& comm_for(Group g, bool fused) const;
  void count(const Op& op, OpKind kind, Group group, std::int64_t elements, const std::string& fused = {});
  backend::ExpertWeights<T> expert_weights() const;

  std::unique_ptr<backend::Backend> owned_backend_;
  backend::Backend& backend_;
  backend::Compute<T>& compute_;
  const Config& config_;
  RankLayout layout_;
  comm::CommGroups& transport_;
  backend::StreamGroups groups_;
  Schedule schedule_;
  LocalWeights<T> weights_;  // host copy (shapes and verification)
  DeviceTensors<T> device_weights_;
  DeviceTensors<T> device_grads_;

  FlowTensor<T> flow_;
  Direction direction_ = Direction::Forward;
  Tail tail_;
  backend::Stream* stream_ = nullptr;  // the stream of the chain op being enqueued
  // Per pass: buffers and events in enqueue order, reused across iterations while the shapes repeat.
  std::vector<backend::Buffer<T>> buffers_[2];
  std::vector<std::unique_ptr<backend::Event>> events_[2];
  std::size_t next_buffer_ = 0, next_event_ = 0;
  backend::Buffer<T> input_[2];  // the uploaded x / dout

  // Saved by forward for backward (views of forward buffers, which live until the next forward).
  backend::View<T> gate_input_, probs_, combine_weights_, expert_output_, dweights_;
  std::int64_t gate_tokens_ = 0, capacity_ = 0, gate_offset_ = 0;
  backend::Buffer<T> given_logits_;     // (S, E) with --gate-logits, else empty
  backend::Buffer<T> logits_identity_;  // (E, E) identity: the gate's GEMM passes given logits through
  std::unique_ptr<backend::RoutingState> routing_state_;
  // One per capacity chunk (pipeline degree r: chunk k's experts forward saves what its backward reads).
  std::vector<std::unique_ptr<backend::ExpertState>> expert_states_;
  std::vector<backend::DispatchShape> forward_shapes_;  // the experts' input shape per forward chunk
  std::vector<SlotRange> forward_ranges_;               // the last forward's chunks (empty: not chunked)
  // The forward's states cut as the backward's chunks, when the two degrees differ (regroup_expert_states).
  std::vector<std::unique_ptr<backend::ExpertState>> regrouped_states_;
  bool use_regrouped_ = false;
  int chunk_ = 0;                 // the chunk being enqueued (0 outside a chunked region)
  int trace_chunk_ = -1;          // its trace chunk: -1 outside a chunked region
  DeviceTensors<T> chunk_grads_;  // chunk k > 0's expert gradients, added into device_grads_
  backend::View<T> result_[2];    // the last pass's output / input gradient

  mutable std::vector<T> host_result_[2];
  mutable bool result_stale_[2] = {true, true};
  mutable LocalGradients<T> host_grads_;
  mutable bool grads_stale_ = false;
  mutable backend::HostRouting host_routing_;
  mutable bool routing_stale_ = false;

  std::vector<CommCounter> counters_;
  std::int64_t op_bytes_ = 0;  // bytes counted by the op being enqueued (spec size convention)

  profiler::OpTracer* tracer_ = nullptr;
  std::int32_t trace_iteration_ = 0;
  std::int32_t trace_schedule_ = 0;
  // [direction][op index][stage] (stage 0 for ops that are not pipelines)
  std::vector<std::vector<TraceIds>> trace_ids_[2];
  std::vector<PendingTrace> pending_traces_;
  std::int64_t seq_mp_ = 0, seq_ep_ = 0;

  // [direction][op index][stage]: the op's (or pipeline step's) registered NVTX string; a pipeline has one
  // more entry at its end, for the range around all its steps.
  std::vector<std::vector<profiler::NvtxMessage>> nvtx_messages_[2];
  profiler::NvtxRanges nvtx_;
  backend::ActivityCapture* capture_ = nullptr;  // live captures only
  std::int64_t launch_id_ = 0;                   // of the op between begin and end; 0 untraced
  // Brackets still open when a pass threw between begin and end: closed at the next pass's start, so NVTX's
  // and CUPTI's per-thread stacks stay balanced.
  int open_ranges_ = 0;
  bool launch_open_ = false;
  void close_open_brackets();
};

}  // namespace parm
