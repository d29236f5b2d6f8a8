// Every local op the executor runs, as a backend implements it: enqueued on the given stream, operating on
// device views, never waiting. Routing and the experts' saved activations stay on the device in
// backend-made state objects; the host reads them only at the named sync points (the no-drop capacity
// agreement) and through host conveniences after a pass.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/backend/buffer.h"
#include "engine/backend/stream.h"
#include "kernels/layout_index.h"

namespace parm::backend {

// The routing of one gate call as the host sees it (a copy; see kernels/cpu/routing.h for the meaning).
struct HostRouting {
  std::int64_t tokens = 0, experts = 0, top_k = 0, capacity = 0;
  std::vector<std::int32_t> expert;             // T*k choices
  std::vector<std::int64_t> position;           // slot per choice, -1 when dropped
  std::vector<std::int64_t> tokens_per_expert;  // loads before dropping

  std::int64_t dropped_choices() const;
};

// Device-side routing: choices, loads and slot positions of the last gate call.
class RoutingState {
 public:
  virtual ~RoutingState() = default;
};

// Device-side activations the expert FFN's backward needs from its forward.
class ExpertState {
 public:
  virtual ~ExpertState() = default;
};

enum class ExpertActivation { Gelu, Swiglu };

// The rank's local experts (E_loc of them, the H-shard Hs each); empty views for absent tensors (no bias, no
// W3 without SwiGLU, no b2 on shards that do not add it).
template <typename T>
struct ExpertWeights {
  ExpertActivation activation = ExpertActivation::Gelu;
  std::int64_t hidden = 0, shard = 0, experts = 0;
  View<const T> w1, b1, w3, b3, w2, b2;
};

template <typename T>
struct ExpertGrads {
  View<T> w1, b1, w3, b3, w2, b2;
};

// A dispatched tensor's shape (outer, experts, slots, M).
struct DispatchShape {
  std::int64_t outer = 1, experts = 1, slot_count = 1, width = 0;
};

// Part of one saved expert state copied into another (a backward that cuts the capacity into another number
// of chunks than its forward did: engine/schedules/chunk_plan.h). Both states hold the same experts' rows as
// `row_blocks` blocks of slots per expert (from_slots in `from`, to_slots in `to`); `count` slots move from
// slot from_first of each block of `from` to slot to_first of the same block of `to`, in every saved tensor.
// Either `to` is a slice of `from` (to_first 0, count = to_slots) or `from` is placed into `to` (from_first
// 0, count = from_slots). `to` takes the shape to_shape (its rows, as experts_backward will be called).
struct ExpertStateSlots {
  DispatchShape to_shape;
  std::int64_t row_blocks = 0, from_slots = 0, to_slots = 0, from_first = 0, to_first = 0, count = 0;
};

// The copy of one saved tensor of `width` elements per slot, over `blocks` blocks (row_blocks times the
// experts where a backend packs them together); throws std::logic_error for a copy of neither form.
layout::BlockCopy expert_state_copy(const ExpertStateSlots& s, std::int64_t blocks, std::int64_t width);

template <typename T>
class Compute {
 public:
  virtual ~Compute() = default;

  virtual std::unique_ptr<RoutingState> make_routing() = 0;
  virtual std::unique_ptr<ExpertState> make_expert_state() = 0;

  // probs (T,E) = softmax(x (T,M) * wg (M,E)); the top-k choices and the expert loads into `routing`.
  virtual void gate_forward(Stream& s, View<const T> x, View<const T> wg, std::int64_t tokens,
                            std::int64_t hidden, std::int64_t experts, std::int64_t top_k, View<T> probs,
                            RoutingState& routing) = 0;
  // Slot positions for `capacity` and the combine weights (T*k) of the kept choices.
  virtual void route(Stream& s, RoutingState& routing, std::int64_t capacity, View<const T> probs,
                     View<T> combine_weights) = 0;
  // Host: the expert loads of the last gate_forward; the caller has synchronized the stream.
  virtual std::vector<std::int64_t> expert_loads(const RoutingState& routing) const = 0;
  virtual HostRouting host_routing(const RoutingState& routing) const = 0;

  // dX through the dispatch (dx ACCUMULATE), dWg OVERWRITE.
  virtual void gate_backward(Stream& s, const RoutingState& routing, View<const T> x, View<const T> wg,
                             View<const T> probs, View<const T> combine_weights, View<const T> dweights,
                             std::int64_t hidden, View<T> dwg, View<T> dx) = 0;

  // out (E,C,M) from tokens x (T,M).
  virtual void dispatch(Stream& s, const RoutingState& routing, View<const T> x, std::int64_t hidden,
                        View<T> out) = 0;
  // dx (T,M) OVERWRITE from d_dispatched (E,C,M).
  virtual void dispatch_backward(Stream& s, const RoutingState& routing, View<const T> d_dispatched,
                                 std::int64_t hidden, View<T> dx) = 0;
  virtual void combine(Stream& s, const RoutingState& routing, View<const T> weights, View<const T> y,
                       std::int64_t hidden, View<T> out) = 0;
  virtual void combine_backward(Stream& s, const RoutingState& routing, View<const T> weights,
                                View<const T> y, View<const T> dout, std::int64_t hidden, View<T> dy,
                                View<T> dweights) = 0;

  // Every local expert over its rows of `in` (outer, E_loc, c, M), packed per expert inside.
  virtual void experts_forward(Stream& s, const ExpertWeights<T>& w, DispatchShape shape, View<const T> in,
                               ExpertState& saved, View<T> out) = 0;
  // Parameter gradients OVERWRITE, dx (outer, E_loc, c, M) OVERWRITE.
  virtual void experts_backward(Stream& s, const ExpertWeights<T>& w, DispatchShape shape, View<const T> dy,
                                const ExpertState& saved, const ExpertGrads<T>& grads, View<T> dx) = 0;
  // Slots of a saved state into another (ExpertStateSlots), on the stream the experts run on.
  virtual void copy_expert_state(Stream& s, const ExpertState& from, ExpertState& to,
                                 const ExpertStateSlots& slots) = 0;

  // c (m,n) = a (m,k) * b (k,n), row-major: the experts' inner kernel on its own, which calibration times
  // as the "gemm" fit (the executor runs it inside experts_forward/backward).
  virtual void gemm(Stream& s, View<const T> a, View<const T> b, std::int64_t m, std::int64_t n,
                    std::int64_t k, View<T> c) = 0;

  // values *= factor (the gradient redundancy scaling of B0).
  virtual void scale(Stream& s, View<T> values, T factor) = 0;
  // into += part, element by element (a capacity chunk's expert gradients added into the layer's).
  virtual void accumulate(Stream& s, View<const T> part, View<T> into) = 0;
  // Any layout transform of layout_index.h.
  virtual void copy_blocks(Stream& s, View<const T> src, View<T> dst, const layout::BlockCopy& map) = 0;
  virtual void copy(Stream& s, View<const T> src, View<T> dst) = 0;
};

}  // namespace parm::backend
