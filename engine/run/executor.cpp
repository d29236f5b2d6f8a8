#include "engine/run/executor.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "kernels/capacity.h"
#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/gate.h"

namespace parm {
namespace {

template <typename T>
comm::DataType data_type() {
  return sizeof(T) == sizeof(double) ? comm::DataType::F64 : comm::DataType::F32;
}

Lane lane_of(const Op& op) {
  if (!op.communicates()) return Lane::Compute;
  return op.group == Group::EP ? Lane::Inter : Lane::Intra;
}

std::string_view pass_name(Direction d) {
  return d == Direction::Forward ? "fwd" : "bwd";
}

}  // namespace

template <typename T>
LayerExecutor<T>::LayerExecutor(const Config& config, const RankLayout& layout, comm::CommGroups& groups,
                                Schedule schedule)
    : config_(config),
      layout_(layout),
      groups_(groups),
      schedule_(std::move(schedule)),
      weights_(make_local_weights<T>(config, layout)),
      grads_(zero_gradients_like(weights_)),
      lanes_(std::make_unique<LaneSet>()) {}

template <typename T>
void LayerExecutor<T>::forward(const std::vector<T>& x) {
  const std::int64_t m = config_.layer.hidden;
  flow_ = FlowTensor<T>::tokens(x, static_cast<std::int64_t>(x.size()) / m, m);
  run(schedule_.forward, Direction::Forward);
  output_ = std::move(flow_.data);
}

template <typename T>
void LayerExecutor<T>::backward(const std::vector<T>& dout) {
  const std::int64_t m = config_.layer.hidden;
  flow_ = FlowTensor<T>::tokens(dout, static_cast<std::int64_t>(dout.size()) / m, m);
  run(schedule_.backward, Direction::Backward);
  input_grad_ = std::move(flow_.data);
}

template <typename T>
void LayerExecutor<T>::set_trace(profiler::OpTracer* tracer, std::int32_t iteration) {
  tracer_ = tracer;
  trace_iteration_ = iteration;
  if (!tracer_ || !trace_ids_[0].empty()) return;
  trace_schedule_ = tracer_->intern(to_string(schedule_.kind));
  const std::vector<Op>* lists[2] = {&schedule_.forward, &schedule_.backward};
  for (int d = 0; d < 2; ++d) {
    for (const Op& op : *lists[d]) {
      std::vector<TraceIds> ids;
      auto name_of = [](const Op& o) { return o.communicates() ? std::string(to_string(o.kind)) : o.name(); };
      if (op.kind == OpKind::Pipeline) {
        for (const Stage& st : op.stages)
          ids.push_back({tracer_->intern(op.name() + ":" + std::string(to_string(st.kind))),
                         tracer_->intern(to_string(st.group)), tracer_->intern(op.label)});
      } else {
        ids.push_back(
            {tracer_->intern(name_of(op)), tracer_->intern(to_string(op.group)), tracer_->intern(op.label)});
      }
      trace_ids_[d].push_back(std::move(ids));
    }
  }
}

template <typename T>
const typename LayerExecutor<T>::TraceIds& LayerExecutor<T>::ids_of(std::size_t op_index,
                                                                    std::size_t stage) const {
  return trace_ids_[direction_ == Direction::Forward ? 0 : 1][op_index][stage];
}

// Wraps a lane task so it records its own interval: the lane thread takes both timestamps, so per lane the
// recorded intervals never overlap.
template <typename T>
std::function<void()> LayerExecutor<T>::traced(std::function<void()> work, const TraceIds& ids, Lane lane,
                                               Group group, std::int64_t seq, std::int32_t chunk,
                                               std::int64_t fixed_bytes) {
  if (!tracer_) return work;
  profiler::TraceEvent e;
  e.lane = static_cast<std::int32_t>(lane);
  e.schedule = trace_schedule_;
  e.op = ids.op;
  e.group = ids.group;
  e.purpose = ids.purpose;
  e.comm = group == Group::None ? -1 : (group == Group::EP ? layout_.mp_index : layout_.mp_group);
  e.chunk = chunk;
  e.seq = seq;
  e.iteration = trace_iteration_;
  e.phase = direction_ == Direction::Forward ? 0 : 1;
  // Pipeline steps run on two lanes at once and pass their size; chain ops report theirs through op_bytes_.
  return [this, work = std::move(work), e, fixed_bytes]() mutable {
    if (fixed_bytes < 0) op_bytes_ = 0;
    e.start_ns = profiler::now_ns();
    work();
    e.end_ns = profiler::now_ns();
    e.bytes = fixed_bytes < 0 ? op_bytes_ : fixed_bytes;
    tracer_->record(e);
  };
}

template <typename T>
void LayerExecutor<T>::run(const std::vector<Op>& ops, Direction direction) {
  direction_ = direction;
  seq_mp_ = seq_ep_ = 0;
  EventPtr previous;
  for (std::size_t k = 0; k < ops.size(); ++k) {
    const Op& op = ops[k];
    if (op.kind == OpKind::Pipeline) {
      lanes_->synchronize();  // the pipeline's buffers are shaped by its input, which must exist first
      run_pipeline(op, k);
      previous.reset();
      continue;
    }
    std::vector<EventPtr> waits;
    if (previous) waits.push_back(previous);
    const Lane lane = lane_of(op);
    const std::int64_t seq = op.communicates() ? next_seq(op.group) : -1;
    auto work = [this, &op] { apply(op); };
    previous = lanes_->submit(lane, tracer_ ? traced(work, ids_of(k, 0), lane, op.group, seq, -1) : work,
                              std::move(waits));
  }
  lanes_->synchronize();
}

template <typename T>
void LayerExecutor<T>::apply(const Op& op) {
  const bool fwd = op.direction == Direction::Forward;
  switch (op.kind) {
    case OpKind::Gate:
      return fwd ? gate_forward() : gate_backward();
    case OpKind::Order:
      return fwd ? order_forward() : order_backward();
    case OpKind::Experts:
      return fwd ? experts_forward(op) : experts_backward(op);
    case OpKind::Combine:
      return fwd ? combine_forward() : combine_backward();
    case OpKind::Split:
      return split(op);
    case OpKind::AllGather:
      return all_gather(op);
    case OpKind::ReduceScatter:
      return reduce_scatter(op);
    case OpKind::AllReduce:
      return all_reduce(op);
    case OpKind::AlltoAll:
      return all_to_all(op);
    case OpKind::Copy:
      return;  // identity forward; its backward is emitted as an AllReduce
    case OpKind::GradAllReduce:
      return grad_all_reduce(op);
    case OpKind::Pipeline:
      throw std::logic_error("pipelines are run by run_pipeline");
  }
}

// ---- local compute
// -------------------------------------------------------------------------------------------

template <typename T>
std::int64_t LayerExecutor<T>::routing_capacity(const std::vector<std::int32_t>& choices) {
  const LayerConfig& l = config_.layer;
  const std::int64_t n = layout_.mp_size;
  if (l.drop_tokens) {
    const auto cap = [&](std::int64_t tokens) {
      return kernels::expert_capacity(tokens, l.num_experts, l.capacity_factor, l.top_k, l.min_capacity);
    };
    switch (schedule_.capacity) {
      case CapacityRule::C0:
        return cap(l.tokens());
      case CapacityRule::C1:
        return cap(l.tokens() / n);
      case CapacityRule::C2:
        return kernels::round_up(cap(l.tokens()), n);
    }
  }
  // No drop: the largest expert load, agreed over every rank (S1's MP peers gate different slices, and the
  // ESP gathers need one shape), rounded up to a multiple of N where the capacity is split over MP.
  const auto loads = kernels::cpu::expert_loads(choices, l.num_experts);
  std::int64_t largest = std::max<std::int64_t>(1, *std::max_element(loads.begin(), loads.end()));
  groups_.world->all_reduce(&largest, 1, comm::DataType::I64, comm::ReduceOp::Max);
  return schedule_.capacity == CapacityRule::C2 ? kernels::round_up(largest, n) : largest;
}

template <typename T>
void LayerExecutor<T>::gate_forward() {
  const LayerConfig& l = config_.layer;
  const std::int64_t tokens = flow_.outer, m = l.hidden, e = l.num_experts;
  gate_input_ = flow_.data;
  probs_.assign(static_cast<std::size_t>(tokens * e), T(0));
  kernels::cpu::gate_forward(flow_.data.data(), weights_.wg.data(), tokens, m, e, probs_.data());
  auto choices = kernels::cpu::top_k_choices(probs_.data(), tokens, e, l.top_k);
  const std::int64_t capacity = routing_capacity(choices);
  routing_ = kernels::cpu::route_choices(std::move(choices), tokens, e, l.top_k, capacity);
  combine_weights_.assign(static_cast<std::size_t>(tokens * l.top_k), T(0));
  kernels::cpu::combine_weights(routing_, probs_.data(), combine_weights_.data());
}

template <typename T>
void LayerExecutor<T>::order_forward() {
  const std::int64_t m = config_.layer.hidden, e = config_.layer.num_experts, c = routing_.capacity;
  std::vector<T> dispatched(static_cast<std::size_t>(e * c * m));
  kernels::cpu::dispatch(routing_, flow_.data.data(), m, dispatched.data());
  flow_ = FlowTensor<T>::dispatch(std::move(dispatched), 1, e, c, m);
}

template <typename T>
void LayerExecutor<T>::combine_forward() {
  const std::int64_t m = config_.layer.hidden;
  expert_output_ = std::move(flow_.data);
  std::vector<T> out(static_cast<std::size_t>(routing_.tokens * m));
  kernels::cpu::combine(routing_, combine_weights_.data(), expert_output_.data(), m, out.data());
  flow_ = FlowTensor<T>::tokens(std::move(out), routing_.tokens, m);
}

template <typename T>
void LayerExecutor<T>::combine_backward() {
  const std::int64_t m = config_.layer.hidden, e = config_.layer.num_experts, c = routing_.capacity;
  std::vector<T> dy(static_cast<std::size_t>(e * c * m));
  dweights_.assign(combine_weights_.size(), T(0));
  kernels::cpu::combine_backward(routing_, combine_weights_.data(), expert_output_.data(), flow_.data.data(),
                                 m, dy.data(), dweights_.data());
  flow_ = FlowTensor<T>::dispatch(std::move(dy), 1, e, c, m);
}

template <typename T>
void LayerExecutor<T>::order_backward() {
  const std::int64_t m = config_.layer.hidden;
  std::vector<T> dx(static_cast<std::size_t>(routing_.tokens * m), T(0));
  kernels::cpu::dispatch_backward(routing_, flow_.data.data(), m, dx.data());
  flow_ = FlowTensor<T>::tokens(std::move(dx), routing_.tokens, m);
}

template <typename T>
void LayerExecutor<T>::gate_backward() {
  const LayerConfig& l = config_.layer;
  const std::int64_t tokens = routing_.tokens, e = l.num_experts;
  std::vector<T> dprobs(static_cast<std::size_t>(tokens * e));
  std::vector<T> dlogits(dprobs.size());
  kernels::cpu::combine_weights_backward(routing_, probs_.data(), combine_weights_.data(), dweights_.data(),
                                         dprobs.data());
  kernels::cpu::gate_backward(gate_input_.data(), weights_.wg.data(), probs_.data(), dprobs.data(), tokens,
                              l.hidden, e, dlogits.data(), grads_.dwg.data(), flow_.data.data());
}

template <typename T>
kernels::cpu::ExpertFfnParams<T> LayerExecutor<T>::expert_params(std::int64_t le) const {
  const std::int64_t m = weights_.hidden, hs = weights_.shard;
  auto at = [](const std::vector<T>& v, std::int64_t offset) {
    return v.empty() ? nullptr : v.data() + offset;
  };
  kernels::cpu::ExpertFfnParams<T> p;
  p.activation = config_.layer.activation == Activation::Swiglu ? kernels::cpu::FfnActivation::Swiglu
                                                                : kernels::cpu::FfnActivation::Gelu;
  p.hidden = m;
  p.ffn_hidden = hs;
  p.w1 = at(weights_.w1, le * m * hs);
  p.b1 = at(weights_.b1, le * hs);
  p.w3 = at(weights_.w3, le * m * hs);
  p.b3 = at(weights_.b3, le * hs);
  p.w2 = at(weights_.w2, le * hs * m);
  p.b2 = at(weights_.b2, le * m);
  return p;
}

// Expert e's rows are spread over the outer blocks (senders, and peers after a gather); the GEMMs want them
// contiguous, so they are packed per expert and unpacked after. Row order does not matter to a row-wise FFN.
template <typename T>
void LayerExecutor<T>::experts_forward(const Op&) {
  const std::int64_t outer = flow_.outer, el = flow_.experts, c = flow_.slot_count, m = flow_.width;
  const std::int64_t rows = outer * c;
  expert_state_.resize(static_cast<std::size_t>(el));
  std::vector<T> out(flow_.data.size());
  std::vector<T> y(static_cast<std::size_t>(rows * m));
  for (std::int64_t e = 0; e < el; ++e) {
    ExpertState& st = expert_state_[static_cast<std::size_t>(e)];
    st.input.resize(static_cast<std::size_t>(rows * m));
    for (std::int64_t o = 0; o < outer; ++o)
      std::copy_n(flow_.data.data() + (o * el + e) * c * m, c * m, st.input.data() + o * c * m);
    kernels::cpu::expert_ffn_forward(expert_params(e), st.input.data(), rows, y.data(), &st.saved);
    for (std::int64_t o = 0; o < outer; ++o)
      std::copy_n(y.data() + o * c * m, c * m, out.data() + (o * el + e) * c * m);
  }
  flow_.data = std::move(out);
}

template <typename T>
void LayerExecutor<T>::experts_backward(const Op& op) {
  const std::int64_t outer = flow_.outer, el = flow_.experts, c = flow_.slot_count, m = flow_.width;
  const std::int64_t rows = outer * c, hs = weights_.shard;
  std::vector<T> dx(flow_.data.size());
  std::vector<T> dy(static_cast<std::size_t>(rows * m)), dxd(dy.size());
  auto at = [](std::vector<T>& v, std::int64_t offset) { return v.empty() ? nullptr : v.data() + offset; };
  for (std::int64_t e = 0; e < el; ++e) {
    for (std::int64_t o = 0; o < outer; ++o)
      std::copy_n(flow_.data.data() + (o * el + e) * c * m, c * m, dy.data() + o * c * m);
    kernels::cpu::ExpertFfnGrads<T> g;
    g.w1 = at(grads_.dw1, e * m * hs);
    g.b1 = at(grads_.db1, e * hs);
    g.w3 = at(grads_.dw3, e * m * hs);
    g.b3 = at(grads_.db3, e * hs);
    g.w2 = at(grads_.dw2, e * hs * m);
    g.b2 = at(grads_.db2, e * m);
    const ExpertState& st = expert_state_[static_cast<std::size_t>(e)];
    kernels::cpu::expert_ffn_backward(expert_params(e), st.input.data(), rows, st.saved, dy.data(), g,
                                      dxd.data());
    for (std::int64_t o = 0; o < outer; ++o)
      std::copy_n(dxd.data() + o * c * m, c * m, dx.data() + (o * el + e) * c * m);
  }
  if (op.redundancy > 1) {  // B0 ran every token `redundancy` times: count each once, as the trainer must
    const T scale = T(1) / static_cast<T>(op.redundancy);
    for (auto* v : {&grads_.dw1, &grads_.db1, &grads_.dw3, &grads_.db3, &grads_.dw2, &grads_.db2})
      for (T& x : *v) x *= scale;
  }
  flow_.data = std::move(dx);
}

// ---- data movement and collectives
// ------------------------------------------------------------------------------

template <typename T>
comm::Communicator& LayerExecutor<T>::comm_for(Group g, bool fused) const {
  if (g == Group::EP) return fused ? *groups_.ep_fused : *groups_.ep;
  return fused ? *groups_.mp_fused : *groups_.mp;  // the ESP group is the MP group (or a group of one)
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
    std::vector<T> part(f.data.begin() + j * keep * f.block(), f.data.begin() + (j + 1) * keep * f.block());
    f.data = std::move(part);
    f.outer = keep;
    return;
  }
  // Capacity: slots [j*c, (j+1)*c) of every (outer, expert) row block.
  const std::int64_t c = f.slot_count / n, blocks = f.outer * f.experts, m = f.width;
  std::vector<T> part(static_cast<std::size_t>(blocks * c * m));
  for (std::int64_t b = 0; b < blocks; ++b)
    std::copy_n(f.data.data() + (b * f.slot_count + j * c) * m, c * m, part.data() + b * c * m);
  f.data = std::move(part);
  f.slot_count = c;
}

// Gathered pieces (n, outer*experts, c, M) interleaved into slots: (outer*experts, n*c, M).
template <typename T>
static void interleave_capacity(const T* gathered, std::int64_t n, std::int64_t blocks, std::int64_t c,
                                std::int64_t m, T* out) {
  for (std::int64_t p = 0; p < n; ++p)
    for (std::int64_t b = 0; b < blocks; ++b)
      std::copy_n(gathered + (p * blocks + b) * c * m, c * m, out + (b * n + p) * c * m);
}

template <typename T>
void LayerExecutor<T>::all_gather(const Op& op) {
  comm::Communicator& comm = comm_for(op.group, false);
  const std::int64_t n = comm.size();
  FlowTensor<T>& f = flow_;
  std::vector<T> gathered(f.data.size() * static_cast<std::size_t>(n));
  comm.all_gather(f.data.data(), gathered.data(), f.data.size() * sizeof(T));
  count(op, OpKind::AllGather, op.group, static_cast<std::int64_t>(gathered.size()));
  if (op.dim == Dim::Capacity) {
    std::vector<T> out(gathered.size());
    interleave_capacity(gathered.data(), n, f.outer * f.experts, f.slot_count, f.width, out.data());
    f.data = std::move(out);
    f.slot_count *= n;
  } else {
    f.data = std::move(gathered);
    f.outer *= n;
  }
}

template <typename T>
void LayerExecutor<T>::reduce_scatter(const Op& op) {
  comm::Communicator& comm = comm_for(op.group, false);
  const std::int64_t n = comm.size();
  FlowTensor<T>& f = flow_;
  count(op, OpKind::ReduceScatter, op.group, static_cast<std::int64_t>(f.data.size()));
  std::vector<T> in = std::move(f.data);
  if (op.dim ==
      Dim::Capacity) {  // bring each peer's slot range together first: (blocks, n*c) -> (n, blocks, c)
    const std::int64_t c = f.slot_count / n, blocks = f.outer * f.experts, m = f.width;
    std::vector<T> grouped(in.size());
    for (std::int64_t p = 0; p < n; ++p)
      for (std::int64_t b = 0; b < blocks; ++b)
        std::copy_n(in.data() + (b * n + p) * c * m, c * m, grouped.data() + (p * blocks + b) * c * m);
    in = std::move(grouped);
    f.slot_count = c;
  } else {
    f.outer /= n;
  }
  f.data.assign(in.size() / static_cast<std::size_t>(n), T(0));
  comm.reduce_scatter(in.data(), f.data.data(), f.data.size(), data_type<T>());
}

template <typename T>
void LayerExecutor<T>::all_reduce(const Op& op) {
  count(op, OpKind::AllReduce, op.group, static_cast<std::int64_t>(flow_.data.size()));
  comm_for(op.group, false)
      .all_reduce(flow_.data.data(), flow_.data.size(), data_type<T>(), comm::ReduceOp::Sum);
}

template <typename T>
void LayerExecutor<T>::grad_all_reduce(const Op& op) {
  count(op, OpKind::GradAllReduce, op.group, static_cast<std::int64_t>(grads_.dwg.size()));
  comm_for(op.group, false)
      .all_reduce(grads_.dwg.data(), grads_.dwg.size(), data_type<T>(), comm::ReduceOp::Sum);
}

// Sender side (1, E, c, M) <-> expert side (W, E_loc, c, M): the memory layout is the same, block w belongs
// to EP rank w either way, so only the interpretation flips.
template <typename T>
static void flip_sides(FlowTensor<T>& f, std::int64_t w) {
  if (f.outer == 1) {
    f.outer = w;
    f.experts /= w;
  } else {
    f.experts *= f.outer;
    f.outer = 1;
  }
}

template <typename T>
void LayerExecutor<T>::all_to_all(const Op& op) {
  comm::Communicator& comm = comm_for(Group::EP, false);
  const std::int64_t w = comm.size();
  FlowTensor<T>& f = flow_;
  count(op, OpKind::AlltoAll, Group::EP, static_cast<std::int64_t>(f.data.size()));
  std::vector<T> out(f.data.size());
  comm.all_to_all(f.data.data(), out.data(), f.data.size() / static_cast<std::size_t>(w) * sizeof(T));
  f.data = std::move(out);
  flip_sides(f, w);
}

// ---- fused pipelines
// ----------------------------------------------------------------------------------------------

// W = N_EP pairwise steps. At step i this rank (EP index q) sends the chunk for dst = (q+i) mod W and
// receives the chunk from src = (q-i) mod W. Stages run on the lane of their group; stage s of step i waits
// for stage s-1 of step i only, so the AlltoAll of step i+1 (inter lane) overlaps the gather/scatter of step
// i (intra lane).
template <typename T>
void LayerExecutor<T>::run_pipeline(const Op& op, std::size_t index) {
  comm::Communicator& ep = comm_for(Group::EP, true);
  comm::Communicator& mp = comm_for(Group::MP, true);
  const std::int64_t W = ep.size(), q = ep.rank(), N = mp.size();
  const std::size_t S = op.stages.size();
  FlowTensor<T>& f = flow_;
  const bool rs_first = op.stages.front().kind == OpKind::ReduceScatter;
  const bool ag_last = op.stages.back().kind == OpKind::AllGather;
  const Dim ag_dim = op.stages.back().dim;

  // Geometry: chunks are one EP peer's (E_loc, c, M) block.
  FlowTensor<T> shape = f;
  if (rs_first) shape.outer /= N;  // after the ReduceScatter: (W, E_loc, c, M)
  const std::int64_t blk = shape.elements() / W;
  const std::int64_t el_c = shape.outer * shape.experts / W;  // experts per chunk: E_loc
  FlowTensor<T> out_shape = shape;
  flip_sides(out_shape, W);
  std::vector<T> exchanged(static_cast<std::size_t>(W * blk));  // chunk src at position src
  std::vector<T> scattered(rs_first ? static_cast<std::size_t>(W * blk) : 0);
  std::vector<T> packed(rs_first ? static_cast<std::size_t>(W * N * blk) : 0);
  std::vector<T> gathered(ag_last ? static_cast<std::size_t>(W * N * blk) : 0);
  std::vector<T> output;
  if (ag_last) {
    output.resize(static_cast<std::size_t>(W * N * blk));
    if (ag_dim == Dim::Capacity) {
      out_shape.slot_count *= N;
    } else {
      out_shape.outer *= N;  // peer-major (N*W, E_loc, c, M)
    }
  }
  const std::string fused = op.name();
  const std::vector<T>& input = f.data;

  auto stage_task = [&](std::size_t s, std::int64_t i) -> std::function<void()> {
    const std::int64_t dst = (q + i) % W, src = (q - i + W) % W;
    const Stage st = op.stages[s];
    if (st.kind == OpKind::AlltoAll) {
      return [&, dst, src] {
        const T* send = rs_first ? scattered.data() + dst * blk : input.data() + dst * blk;
        ep.send_recv(send, blk * sizeof(T), static_cast<int>(dst), exchanged.data() + src * blk,
                     blk * sizeof(T), static_cast<int>(src));
      };
    }
    if (st.kind == OpKind::ReduceScatter) {  // pieces [p][dst] of the peer-major input, summed over the group
      return [&, dst] {
        T* pack = packed.data() + dst * N * blk;
        for (std::int64_t p = 0; p < N; ++p)
          std::copy_n(input.data() + (p * W + dst) * blk, blk, pack + p * blk);
        mp.reduce_scatter(pack, scattered.data() + dst * blk, static_cast<std::size_t>(blk), data_type<T>());
      };
    }
    return
        [&,
         src] {  // AllGather of the chunk received from src, placed as the unfused AllGather would place it
          T* g = gathered.data() + src * N * blk;
          mp.all_gather(exchanged.data() + src * blk, g, blk * sizeof(T));
          if (ag_dim == Dim::Capacity) {
            interleave_capacity(g, N, el_c, shape.slot_count, shape.width, output.data() + src * N * blk);
          } else {
            for (std::int64_t p = 0; p < N; ++p)
              std::copy_n(g + p * blk, blk, output.data() + (p * W + src) * blk);
          }
        };
  };

  // Submit in wavefront order (step + stage), older steps first, so each lane's FIFO never blocks a ready
  // step.
  std::vector<std::vector<EventPtr>> done(static_cast<std::size_t>(W), std::vector<EventPtr>(S));
  for (std::int64_t wave = 0; wave < W + static_cast<std::int64_t>(S) - 1; ++wave) {
    for (std::size_t s = S; s-- > 0;) {
      const std::int64_t i = wave - static_cast<std::int64_t>(s);
      if (i < 0 || i >= W) continue;
      std::vector<EventPtr> waits;
      if (s > 0) waits.push_back(done[static_cast<std::size_t>(i)][s - 1]);
      const Lane lane = op.stages[s].group == Group::EP ? Lane::Inter : Lane::Intra;
      std::function<void()> task = stage_task(s, i);
      if (tracer_) {  // each step is its own collective call: its own event, chunk = step, own sequence
                      // number
        const std::int64_t step_bytes =
            (op.stages[s].kind == OpKind::AlltoAll ? 1 : N) * blk * std::int64_t(sizeof(T));
        task = traced(std::move(task), ids_of(index, s), lane, op.stages[s].group,
                      next_seq(op.stages[s].group), static_cast<std::int32_t>(i), step_bytes);
      }
      done[static_cast<std::size_t>(i)][s] = lanes_->submit(lane, std::move(task), std::move(waits));
    }
  }
  lanes_->synchronize();

  for (const Stage& st : op.stages) {
    const std::int64_t elements =
        st.kind == OpKind::AlltoAll ? W * blk : W * N * blk;  // A2A send, AG out, RS in
    count(op, st.kind, st.group, elements, fused);
  }
  out_shape.data = ag_last ? std::move(output) : std::move(exchanged);
  flow_ = std::move(out_shape);
}

template class LayerExecutor<float>;
template class LayerExecutor<double>;

}  // namespace parm
