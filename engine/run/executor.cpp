#include "engine/run/executor.h"

#include <algorithm>
#include <stdexcept>

#include "engine/run/executor_support.h"
#include "engine/schedules/chunk_plan.h"
#include "engine/schedules/group_specs.h"
#include "kernels/capacity.h"

namespace parm {
namespace {

std::string_view pass_name(Direction d) {
  return d == Direction::Forward ? "fwd" : "bwd";
}

int pass_index(Direction d) {
  return d == Direction::Forward ? 0 : 1;
}

}  // namespace

template <typename T>
LayerExecutor<T>::LayerExecutor(const Config& config, const RankLayout& layout, comm::CommGroups& groups,
                                Schedule schedule)
    : LayerExecutor(backend::make_backend(config.run.backend), nullptr, config, layout, groups,
                    std::move(schedule)) {}

template <typename T>
LayerExecutor<T>::LayerExecutor(backend::Backend& backend, const Config& config, const RankLayout& layout,
                                comm::CommGroups& groups, Schedule schedule)
    : LayerExecutor(nullptr, &backend, config, layout, groups, std::move(schedule)) {}

template <typename T>
LayerExecutor<T>::LayerExecutor(std::unique_ptr<backend::Backend> owned, backend::Backend* shared,
                                const Config& config, const RankLayout& layout, comm::CommGroups& groups,
                                Schedule schedule)
    : owned_backend_(std::move(owned)),
      backend_(shared ? *shared : *owned_backend_),
      compute_(backend_.compute<T>()),
      config_(config),
      layout_(layout),
      transport_(groups),
      groups_(backend_.make_groups(groups)),
      schedule_(std::move(schedule)),
      weights_(make_local_weights<T>(config, layout)),
      device_weights_(upload_weights(backend_.allocator(), weights_)),
      device_grads_(upload_gradients(backend_.allocator(), zero_gradients_like(weights_))),
      routing_state_(compute_.make_routing()) {
  expert_states_.push_back(compute_.make_expert_state());
  if (!config.layer.drop_tokens) add_capacity_sync(schedule_);
  host_grads_ = zero_gradients_like(weights_);
  register_nvtx_messages();
}

template <typename T>
LayerExecutor<T>::~LayerExecutor() {
  try {
    backend_.synchronize();  // queued tasks hold views of this executor's buffers
  } catch (...) {
    // Already reported by the pass that failed.
  }
}

template <typename T>
void LayerExecutor<T>::forward(const std::vector<T>& x) {
  const std::int64_t m = config_.layer.hidden;
  backend::Buffer<T>& in = input_[0];
  if (in.size() != x.size()) in = backend::Buffer<T>(backend_.allocator(), x.size());
  backend_.allocator().copy_from_host(in.data(), x.data(), x.size() * sizeof(T));
  flow_ = FlowTensor<T>::tokens(in.view(), static_cast<std::int64_t>(x.size()) / m, m);
  run(schedule_.forward, Direction::Forward);
  result_[0] = flow_.data;
  result_stale_[0] = true;
  routing_stale_ = true;
}

template <typename T>
void LayerExecutor<T>::backward(const std::vector<T>& dout) {
  const std::int64_t m = config_.layer.hidden;
  backend::Buffer<T>& in = input_[1];
  if (in.size() != dout.size()) in = backend::Buffer<T>(backend_.allocator(), dout.size());
  backend_.allocator().copy_from_host(in.data(), dout.data(), dout.size() * sizeof(T));
  flow_ = FlowTensor<T>::tokens(in.view(), static_cast<std::int64_t>(dout.size()) / m, m);
  run(schedule_.backward, Direction::Backward);
  result_[1] = flow_.data;
  result_stale_[1] = true;
  grads_stale_ = true;
}

template <typename T>
backend::View<T> LayerExecutor<T>::allocate(std::int64_t count) {
  auto& pool = buffers_[pass_index(direction_)];
  if (next_buffer_ == pool.size()) pool.emplace_back();
  backend::Buffer<T>& b = pool[next_buffer_++];
  if (b.size() != static_cast<std::size_t>(count))
    b = backend::Buffer<T>(backend_.allocator(), static_cast<std::size_t>(count));
  return b.view();
}

template <typename T>
backend::Event* LayerExecutor<T>::next_event() {
  auto& pool = events_[pass_index(direction_)];
  if (next_event_ == pool.size()) pool.push_back(backend_.make_event());
  return pool[next_event_++].get();
}

template <typename T>
backend::Stream& LayerExecutor<T>::begin(Lane lane, backend::Event* after, Lane after_lane,
                                         const profiler::NvtxMessage& message, backend::Event** start) {
  backend::Stream& s = backend_.stream(lane);
  // Launch ids are per rank and run (the tracer is), so a GPU record names one op occurrence.
  launch_id_ = tracer_ ? tracer_->next_launch_id() : 0;
  nvtx_.push(message, detail::nvtx_category(lane), static_cast<std::uint64_t>(std::max(0, trace_iteration_)),
             launch_id_);
  ++open_ranges_;
  if (capture_ && launch_id_ != 0) {
    capture_->push_launch(launch_id_);
    launch_open_ = true;
  }
  if (after && after_lane != lane) s.wait(*after);  // same stream: its order already holds
  *start = nullptr;
  if (tracer_) {
    *start = next_event();
    s.record(**start);
  }
  return s;
}

template <typename T>
backend::Event* LayerExecutor<T>::end(Lane lane, const TraceIds* ids, Group group, std::int64_t seq,
                                      std::int32_t chunk, std::int64_t bytes, backend::Event* start) {
  backend::Event* done = next_event();
  backend_.stream(lane).record(*done);
  if (launch_open_) capture_->pop_launch();
  launch_open_ = false;
  nvtx_.pop();
  --open_ranges_;
  if (tracer_ && ids && start) {
    profiler::TraceEvent e;
    e.lane = static_cast<std::int32_t>(lane);
    e.schedule = trace_schedule_;
    e.op = ids->op;
    e.group = ids->group;
    e.purpose = ids->purpose;
    e.comm = group == Group::None ? -1 : (group == Group::EP ? layout_.mp_index : layout_.mp_group);
    e.chunk = chunk;
    e.seq = seq;
    e.iteration = trace_iteration_;
    e.phase = direction_ == Direction::Forward ? 0 : 1;
    e.bytes = bytes;
    e.launch_id = launch_id_;
    pending_traces_.push_back({e, start, done});
  }
  return done;
}

template <typename T>
void LayerExecutor<T>::run(const std::vector<Op>& ops, Direction direction) {
  pending_traces_.clear();
  enqueue_pass(ops, direction, {});
  backend_.synchronize();
  finish_passes();
}

template <typename T>
void LayerExecutor<T>::enqueue_pass(const std::vector<Op>& ops, Direction direction, Tail start) {
  close_open_brackets();
  direction_ = direction;
  if (direction == Direction::Forward) {
    forward_ranges_.clear();  // run_chunked sets them when the forward runs in chunks
    use_regrouped_ = false;
  }
  seq_mp_ = seq_ep_ = 0;
  next_buffer_ = next_event_ = 0;
  tail_ = start;
  for (std::size_t k = 0; k < ops.size(); ++k) {
    const Op& op = ops[k];
    if (op.kind == OpKind::ChunkSplit) {
      k = run_chunked(ops, k);
    } else if (op.kind == OpKind::Pipeline) {
      run_pipeline(op, k);
    } else if (op.kind == OpKind::CapacitySync) {
      capacity_sync();
    } else {
      enqueue(op, k);
    }
  }
}

template <typename T>
void LayerExecutor<T>::finish_passes() {
  // Op times are the intervals between the events recorded around each op on its stream.
  for (PendingTrace& p : pending_traces_) {
    p.event.start_ns = backend_.event_time_ns(*p.start);
    p.event.end_ns = backend_.event_time_ns(*p.end);
    tracer_->record(p.event);
  }
  pending_traces_.clear();
}

template <typename T>
typename LayerExecutor<T>::PassEnd LayerExecutor<T>::enqueue_on(backend::View<T> input, Direction direction,
                                                                backend::Event* after, Lane after_lane) {
  const std::int64_t m = config_.layer.hidden;
  flow_ = FlowTensor<T>::tokens(input, static_cast<std::int64_t>(input.size()) / m, m);
  enqueue_pass(direction == Direction::Forward ? schedule_.forward : schedule_.backward, direction,
               {after, after_lane});
  const int k = pass_index(direction);
  result_[k] = flow_.data;
  result_stale_[k] = true;
  if (direction == Direction::Forward) {
    routing_stale_ = true;
  } else {
    grads_stale_ = true;
  }
  return {tail_.event, tail_.lane, flow_.data};
}

template <typename T>
typename LayerExecutor<T>::PassEnd LayerExecutor<T>::enqueue_forward(backend::View<T> x,
                                                                     backend::Event* after, Lane after_lane) {
  return enqueue_on(x, Direction::Forward, after, after_lane);
}

template <typename T>
typename LayerExecutor<T>::PassEnd LayerExecutor<T>::enqueue_backward(backend::View<T> dout,
                                                                      backend::Event* after,
                                                                      Lane after_lane) {
  return enqueue_on(dout, Direction::Backward, after, after_lane);
}

template <typename T>
void LayerExecutor<T>::enqueue(const Op& op, std::size_t index) {
  const Lane lane = lane_of(op);
  const std::int64_t seq = op.communicates() ? next_seq(op.group) : -1;
  backend::Event* start = nullptr;
  stream_ = &begin(lane, tail_.event, tail_.lane, message_of(index, 0), &start);
  op_bytes_ = 0;
  const bool fwd = op.direction == Direction::Forward;
  switch (op.kind) {
    case OpKind::Gate:
      fwd ? gate_forward() : gate_backward();
      break;
    case OpKind::Order:
      fwd ? order_forward() : order_backward();
      break;
    case OpKind::Experts:
      fwd ? experts_forward() : experts_backward(op);
      break;
    case OpKind::Combine:
      fwd ? combine_forward() : combine_backward();
      break;
    case OpKind::Split:
      split(op);
      break;
    case OpKind::AllGather:
      all_gather(op);
      break;
    case OpKind::ReduceScatter:
      reduce_scatter(op);
      break;
    case OpKind::AllReduce:
      all_reduce(op);
      break;
    case OpKind::AlltoAll:
      all_to_all(op);
      break;
    case OpKind::Copy:
      break;  // identity forward; its backward is emitted as an AllReduce
    case OpKind::GradAllReduce:
      grad_all_reduce(op);
      break;
    case OpKind::Pipeline:
    case OpKind::CapacitySync:
    case OpKind::ChunkSplit:
    case OpKind::ChunkMerge:
      throw std::logic_error("pipelines, chunk brackets and sync points are not chain ops");
  }
  tail_ = {end(lane, ids_of(index, 0), op.group, seq, trace_chunk_, op_bytes_, start), lane};
}

// ---- local compute
// -------------------------------------------------------------------------------------------

template <typename T>
std::int64_t LayerExecutor<T>::rule_capacity() const {
  const LayerConfig& l = config_.layer;
  const std::int64_t c0 = l.capacity_of(l.tokens());
  return parm::rule_capacity(schedule_.capacity, c0, l.capacity_of(l.tokens() / layout_.mp_size),
                             kernels::round_up(c0, layout_.mp_size));
}

template <typename T>
void LayerExecutor<T>::gate_forward() {
  const LayerConfig& l = config_.layer;
  const std::int64_t tokens = flow_.outer, m = l.hidden, e = l.num_experts;
  gate_tokens_ = tokens;
  gate_input_ = flow_.data;
  probs_ = allocate(tokens * e);
  combine_weights_ = allocate(tokens * l.top_k);
  // A gate of S/N tokens routes slice mp_index (the Split before it keeps that block).
  gate_offset_ = tokens == l.tokens() ? 0 : layout_.mp_index * tokens;
  if (given_logits_.size() > 0) {
    // logits (T,E) * identity (E,E) is the logits exactly, so both backends route given logits through the
    // same gate_forward (softmax, top-k, loads) as computed ones.
    const backend::View<T> logits = given_logits_.view().slice(gate_offset_ * e, tokens * e);
    compute_.gate_forward(*stream_, logits, logits_identity_.view(), tokens, e, e, l.top_k, probs_,
                          *routing_state_);
  } else {
    compute_.gate_forward(*stream_, gate_input_, device_weights_.wg.view(), tokens, m, e, l.top_k, probs_,
                          *routing_state_);
  }
  if (!l.drop_tokens) return;  // the CapacitySync op that follows routes
  capacity_ = rule_capacity();
  compute_.route(*stream_, *routing_state_, capacity_, probs_, combine_weights_);
}

// No drop: the largest expert load, agreed over every rank (S1's MP peers gate different slices, and the ESP
// gathers need one shape), rounded up to a multiple of N where the capacity is split over MP. Every later
// shape depends on it, so the host waits for the gate here: the pass's one sync point.
template <typename T>
void LayerExecutor<T>::capacity_sync() {
  backend::Stream& s = backend_.stream(Lane::Compute);
  s.synchronize();
  const auto loads = compute_.expert_loads(*routing_state_);
  std::int64_t largest = std::max<std::int64_t>(1, *std::max_element(loads.begin(), loads.end()));
  transport_.world->all_reduce(&largest, 1, comm::DataType::I64, comm::ReduceOp::Max);
  capacity_ = schedule_.capacity == CapacityRule::C2 ? kernels::round_up(largest, layout_.mp_size) : largest;
  compute_.route(s, *routing_state_, capacity_, probs_, combine_weights_);
  backend::Event* routed = next_event();
  s.record(*routed);
  tail_ = {routed, Lane::Compute};
}

template <typename T>
void LayerExecutor<T>::order_forward() {
  const std::int64_t m = config_.layer.hidden, e = config_.layer.num_experts, c = capacity_;
  backend::View<T> dispatched = allocate(e * c * m);
  compute_.dispatch(*stream_, *routing_state_, flow_.data, m, dispatched);
  flow_ = FlowTensor<T>::dispatch(dispatched, 1, e, c, m);
}

template <typename T>
void LayerExecutor<T>::combine_forward() {
  const std::int64_t m = config_.layer.hidden;
  expert_output_ = flow_.data;
  backend::View<T> out = allocate(gate_tokens_ * m);
  compute_.combine(*stream_, *routing_state_, combine_weights_, expert_output_, m, out);
  flow_ = FlowTensor<T>::tokens(out, gate_tokens_, m);
}

template <typename T>
void LayerExecutor<T>::combine_backward() {
  const std::int64_t m = config_.layer.hidden, e = config_.layer.num_experts, c = capacity_;
  backend::View<T> dy = allocate(e * c * m);
  dweights_ = allocate(static_cast<std::int64_t>(combine_weights_.size()));
  compute_.combine_backward(*stream_, *routing_state_, combine_weights_, expert_output_, flow_.data, m, dy,
                            dweights_);
  flow_ = FlowTensor<T>::dispatch(dy, 1, e, c, m);
}

template <typename T>
void LayerExecutor<T>::order_backward() {
  const std::int64_t m = config_.layer.hidden;
  backend::View<T> dx = allocate(gate_tokens_ * m);
  compute_.dispatch_backward(*stream_, *routing_state_, flow_.data, m, dx);
  flow_ = FlowTensor<T>::tokens(dx, gate_tokens_, m);
}

template <typename T>
void LayerExecutor<T>::gate_backward() {
  if (given_logits_.size() > 0) return;  // constant logits: dWg stays 0, dX has only the dispatch term
  compute_.gate_backward(*stream_, *routing_state_, gate_input_, device_weights_.wg.view(), probs_,
                         combine_weights_, dweights_, config_.layer.hidden, device_grads_.wg.view(),
                         flow_.data);
}

template <typename T>
backend::ExpertWeights<T> LayerExecutor<T>::expert_weights() const {
  const DeviceTensors<T>& d = device_weights_;
  backend::ExpertWeights<T> w;
  w.activation = config_.layer.activation == Activation::Swiglu ? backend::ExpertActivation::Swiglu
                                                                : backend::ExpertActivation::Gelu;
  w.hidden = weights_.hidden;
  w.shard = weights_.shard;
  w.experts = weights_.local_experts;
  w.w1 = d.w1.view();
  w.b1 = d.b1.view();
  w.w3 = d.w3.view();
  w.b3 = d.b3.view();
  w.w2 = d.w2.view();
  w.b2 = d.b2.view();
  return w;
}

template <typename T>
void LayerExecutor<T>::experts_forward() {
  const backend::DispatchShape shape{flow_.outer, flow_.experts, flow_.slot_count, flow_.width};
  backend::View<T> out = allocate(flow_.elements());
  if (forward_shapes_.size() <= static_cast<std::size_t>(chunk_))
    forward_shapes_.resize(static_cast<std::size_t>(chunk_) + 1);
  forward_shapes_[static_cast<std::size_t>(chunk_)] = shape;
  compute_.experts_forward(*stream_, expert_weights(), shape, flow_.data,
                           *expert_states_.at(static_cast<std::size_t>(chunk_)), out);
  flow_.data = out;
}

template <typename T>
void LayerExecutor<T>::experts_backward(const Op& op) {
  const backend::DispatchShape shape{flow_.outer, flow_.experts, flow_.slot_count, flow_.width};
  backend::View<T> dx = allocate(flow_.elements());
  // Chunk 0 overwrites the gradients (the backend's contract); a later chunk's go to chunk_grads_ and are
  // added in, on the same stream, so one scratch set serves every chunk.
  if (chunk_ > 0 && chunk_grads_.w1.size() == 0)
    chunk_grads_ = upload_gradients(backend_.allocator(), zero_gradients_like(weights_));
  const DeviceTensors<T>& g = chunk_ > 0 ? chunk_grads_ : device_grads_;
  const backend::ExpertGrads<T> grads{g.w1.view(), g.b1.view(), g.w3.view(),
                                      g.b3.view(), g.w2.view(), g.b2.view()};
  if (trace_chunk_ < 0) regroup_expert_states({});  // an unchunked backward after a chunked forward
  const auto& states = use_regrouped_ ? regrouped_states_ : expert_states_;
  compute_.experts_backward(*stream_, expert_weights(), shape, flow_.data,
                            *states.at(static_cast<std::size_t>(chunk_)), grads, dx);
  if (op.redundancy > 1) {  // B0 ran every token `redundancy` times: count each once, as the trainer must
    using Math = typename HostMath<T>::type;  // T itself for fp32/fp64, float for the 16-bit types
    const T scale = static_cast<T>(Math(1) / static_cast<Math>(op.redundancy));
    for (backend::View<T> v : {grads.w1, grads.b1, grads.w3, grads.b3, grads.w2, grads.b2})
      if (!v.empty()) compute_.scale(*stream_, v, scale);
  }
  if (chunk_ > 0) {
    const DeviceTensors<T>& d = device_grads_;
    const std::pair<backend::View<T>, backend::View<T>> sums[] = {
        {d.w1.view(), grads.w1}, {d.b1.view(), grads.b1}, {d.w3.view(), grads.w3},
        {d.b3.view(), grads.b3}, {d.w2.view(), grads.w2}, {d.b2.view(), grads.b2}};
    for (const auto& [into, part] : sums)
      if (!into.empty()) compute_.accumulate(*stream_, part, into);
  }
  flow_.data = dx;
}

// ---- data movement and collectives
// ------------------------------------------------------------------------------

template <typename T>
backend::StreamCommunicator& LayerExecutor<T>::comm_for(Group g, bool fused) const {
  using comm::GroupKind;
  // Indexed by Group (None, MP, ESP, EP): each op runs on the communicator of its own group.
  static constexpr GroupKind kPlain[] = {GroupKind::World, GroupKind::MP, GroupKind::ESP, GroupKind::EP};
  static constexpr GroupKind kFused[] = {GroupKind::World, GroupKind::MPFused, GroupKind::ESPFused,
                                         GroupKind::EPFused};
  if (g == Group::None) throw std::logic_error("a collective without a group");
  return groups_[(fused ? kFused : kPlain)[static_cast<int>(g)]];
}

template <typename T>
void LayerExecutor<T>::count(const Op& op, OpKind kind, Group group, std::int64_t elements,
                             const std::string& fused) {
  const std::string pass(pass_name(op.direction));
  const std::string name(to_string(kind == OpKind::GradAllReduce ? OpKind::AllReduce : kind));
  const std::string grp(to_string(group));
  const std::int64_t bytes = elements * static_cast<std::int64_t>(sizeof(T));
  op_bytes_ += bytes;
  for (auto& c : counters_) {
    if (c.pass == pass && c.op == name && c.group == grp && c.purpose == op.label && c.fused == fused) {
      c.bytes += bytes;
      c.calls += 1;
      return;
    }
  }
  counters_.push_back({pass, name, grp, op.label, fused, bytes, 1});
}

template <typename T>
void LayerExecutor<T>::split(const Op& op) {
  const std::int64_t n = layout_.mp_size, j = layout_.mp_index;
  FlowTensor<T>& f = flow_;
  if (op.dim == Dim::Tokens || op.dim == Dim::Peer) {  // keep outer blocks [j*outer/n, (j+1)*outer/n)
    const std::int64_t keep = f.outer / n;
    backend::View<T> part = allocate(keep * f.block());
    compute_.copy_blocks(*stream_, f.data, part, layout::split_outer(keep, f.block(), j));
    f.data = part;
    f.outer = keep;
    return;
  }
  // Capacity: slots [j*c, (j+1)*c) of every (outer, expert) row block.
  const std::int64_t c = f.slot_count / n, blocks = f.outer * f.experts;
  backend::View<T> part = allocate(blocks * c * f.width);
  compute_.copy_blocks(*stream_, f.data, part, layout::split_capacity(blocks, f.slot_count, n, j, f.width));
  f.data = part;
  f.slot_count = c;
}

template <typename T>
void LayerExecutor<T>::all_gather(const Op& op) {
  backend::StreamCommunicator& comm = comm_for(op.group, false);
  const std::int64_t n = comm.size();
  FlowTensor<T>& f = flow_;
  backend::View<T> gathered = allocate(f.elements() * n);
  comm.all_gather(*stream_, f.data.data(), gathered.data(), f.data.size(), detail::data_type<T>());
  count(op, OpKind::AllGather, op.group, static_cast<std::int64_t>(gathered.size()));
  if (op.dim == Dim::Capacity) {  // pieces (n, outer*experts, c, M) interleaved into slots
    backend::View<T> out = allocate(static_cast<std::int64_t>(gathered.size()));
    compute_.copy_blocks(*stream_, gathered, out,
                         layout::interleave_capacity(n, f.outer * f.experts, f.slot_count, f.width));
    f.data = out;
    f.slot_count *= n;
  } else {
    f.data = gathered;
    f.outer *= n;
  }
}

template <typename T>
void LayerExecutor<T>::reduce_scatter(const Op& op) {
  backend::StreamCommunicator& comm = comm_for(op.group, false);
  const std::int64_t n = comm.size();
  FlowTensor<T>& f = flow_;
  count(op, OpKind::ReduceScatter, op.group, static_cast<std::int64_t>(f.data.size()));
  backend::View<T> in = f.data;
  if (op.dim ==
      Dim::Capacity) {  // bring each peer's slot range together first: (blocks, n*c) -> (n, blocks, c)
    backend::View<T> grouped = allocate(static_cast<std::int64_t>(in.size()));
    compute_.copy_blocks(*stream_, in, grouped,
                         layout::group_capacity(n, f.outer * f.experts, f.slot_count, f.width));
    in = grouped;
    f.slot_count /= n;
  } else {
    f.outer /= n;
  }
  f.data = allocate(static_cast<std::int64_t>(in.size()) / n);
  comm.reduce_scatter(*stream_, in.data(), f.data.data(), f.data.size(), detail::data_type<T>());
}

template <typename T>
void LayerExecutor<T>::all_reduce(const Op& op) {
  count(op, OpKind::AllReduce, op.group, static_cast<std::int64_t>(flow_.data.size()));
  comm_for(op.group, false)
      .all_reduce(*stream_, flow_.data.data(), flow_.data.size(), detail::data_type<T>(),
                  comm::ReduceOp::Sum);
}

template <typename T>
void LayerExecutor<T>::grad_all_reduce(const Op& op) {
  backend::View<T> dwg = device_grads_.wg.view();
  count(op, OpKind::GradAllReduce, op.group, static_cast<std::int64_t>(dwg.size()));
  comm_for(op.group, false)
      .all_reduce(*stream_, dwg.data(), dwg.size(), detail::data_type<T>(), comm::ReduceOp::Sum);
}

template <typename T>
void LayerExecutor<T>::all_to_all(const Op& op) {
  backend::StreamCommunicator& comm = comm_for(Group::EP, false);
  const std::int64_t w = comm.size();
  FlowTensor<T>& f = flow_;
  count(op, OpKind::AlltoAll, Group::EP, static_cast<std::int64_t>(f.data.size()));
  const std::int64_t size = static_cast<std::int64_t>(f.data.size());
  backend::View<T> out = allocate(size);
  if (op.algorithm == AlltoAllAlgorithm::Hierarchical) {
    // 2DH (alltoall_algorithm.h): send blocks [node][local] -> [local][node]; inside the node each local
    // peer gets the blocks bound for its local index on every node; [local source][node] -> [node][local
    // source]; between the nodes each gets its own; out is [node source][local source] = source EP order.
    backend::StreamCommunicator& intra = groups_[comm::GroupKind::EPIntra];
    backend::StreamCommunicator& inter = groups_[comm::GroupKind::EPInter];
    const std::int64_t l = intra.size(), nodes = inter.size(), block = size / w;
    if (l * nodes != w) throw std::logic_error("2DH AlltoAll: EP-intra x EP-inter is not the EP group");
    backend::View<T> by_local = allocate(size), exchanged = allocate(size), by_node = allocate(size);
    compute_.copy_blocks(*stream_, f.data, by_local, layout::transpose_blocks(nodes, l, block));
    intra.all_to_all(*stream_, by_local.data(), exchanged.data(), std::size_t(nodes * block),
                     detail::data_type<T>());
    compute_.copy_blocks(*stream_, exchanged, by_node, layout::transpose_blocks(l, nodes, block));
    inter.all_to_all(*stream_, by_node.data(), out.data(), std::size_t(l * block), detail::data_type<T>());
  } else {
    comm.all_to_all(*stream_, f.data.data(), out.data(), f.data.size() / static_cast<std::size_t>(w),
                    detail::data_type<T>());
  }
  f.data = out;
  detail::flip_sides(f, w);
}

template class LayerExecutor<float>;
template class LayerExecutor<double>;
template class LayerExecutor<Bf16>;
template class LayerExecutor<F16>;

}  // namespace parm
