#include "engine/reference/reference_layer.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "engine/run/tensor_init.h"
#include "kernels/capacity.h"
#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/expert_ffn.h"
#include "kernels/cpu/gate.h"

namespace parm {
namespace {

namespace kc = kernels::cpu;

std::size_t usize(std::int64_t n) {
  return static_cast<std::size_t>(n);
}

bool is_swiglu(const LayerConfig& layer) {
  return layer.activation == Activation::Swiglu;
}

template <typename T>
std::vector<T> generate(std::int64_t count, std::uint64_t seed, TensorId id, const LayerConfig& layer) {
  std::vector<T> v(usize(count));
  fill(v.data(), count, seed, id, 0, tensor_scale(id, layer.hidden, layer.ffn_hidden));
  return v;
}

void check_size(std::size_t actual, std::int64_t expected, const char* what) {
  if (actual != usize(expected))
    throw std::invalid_argument(std::string("reference layer: ") + what + " has " + std::to_string(actual) +
                                " elements, expected " + std::to_string(expected));
}

template <typename T>
void check_weights(const LayerConfig& l, const LayerWeights<T>& w) {
  const std::int64_t m = l.hidden, h = l.ffn_hidden, e = l.num_experts;
  check_size(w.wg.size(), m * e, "wg");
  check_size(w.w1.size(), e * m * h, "w1");
  check_size(w.w2.size(), e * h * m, "w2");
  check_size(w.b1.size(), l.bias ? e * h : 0, "b1");
  check_size(w.b2.size(), l.bias ? e * m : 0, "b2");
  check_size(w.w3.size(), is_swiglu(l) ? e * m * h : 0, "w3");
  check_size(w.b3.size(), is_swiglu(l) && l.bias ? e * h : 0, "b3");
}

// Expert e's slice of the global weights.
template <typename T>
kc::ExpertFfnParams<T> expert_params(const LayerConfig& l, const LayerWeights<T>& w, std::int64_t e) {
  const std::int64_t m = l.hidden, h = l.ffn_hidden;
  kc::ExpertFfnParams<T> p;
  p.activation = is_swiglu(l) ? kc::FfnActivation::Swiglu : kc::FfnActivation::Gelu;
  p.hidden = m;
  p.ffn_hidden = h;
  p.w1 = w.w1.data() + e * m * h;
  p.w2 = w.w2.data() + e * h * m;
  if (l.bias) {
    p.b1 = w.b1.data() + e * h;
    p.b2 = w.b2.data() + e * m;
  }
  if (is_swiglu(l)) {
    p.w3 = w.w3.data() + e * m * h;
    if (l.bias) p.b3 = w.b3.data() + e * h;
  }
  return p;
}

// Everything one group's forward leaves for its backward.
template <typename T>
struct GroupState {
  std::vector<T> probs;  // (S,E)
  kc::Routing routing;
  std::vector<T> weights;                    // (S*k) combine weights
  std::vector<T> dispatched;                 // (E,C,M)
  std::vector<T> y;                          // (E,C,M) expert outputs
  std::vector<kc::ExpertFfnSaved<T>> saved;  // per expert
};

template <typename T>
struct ForwardState {
  std::vector<GroupState<T>> groups;
  std::vector<T> out;
  std::int64_t capacity = 0;
};

// Every group's routing given (not gated): one per group, the same capacity for all, every slot below it.
void check_given_routing(const LayerConfig& l, std::int64_t groups, const std::vector<kc::Routing>& given) {
  if (static_cast<std::int64_t>(given.size()) != groups)
    throw std::invalid_argument("reference layer: expected one routing per group");
  for (const kc::Routing& r : given) {
    if (r.tokens != l.tokens() || r.top_k != l.top_k || r.experts != l.num_experts ||
        r.capacity != given.front().capacity || r.expert.size() != usize(r.tokens * r.top_k) ||
        r.position.size() != r.expert.size())
      throw std::invalid_argument("reference layer: a given routing does not fit the layer");
    for (std::size_t c = 0; c < r.expert.size(); ++c)
      if (r.expert[c] < 0 || r.expert[c] >= r.experts || r.position[c] < -1 || r.position[c] >= r.capacity)
        throw std::invalid_argument(
            "reference layer: a given routing has a choice outside its experts/slots");
  }
}

// Every group's gate probabilities (S,E) and routing with the layer's capacity, which it returns. Routing
// needs every group's loads before any slot exists (no-drop capacity is a max over groups).
template <typename T>
std::int64_t gate_and_route(const LayerConfig& l, std::int64_t groups, const LayerWeights<T>& w,
                            const std::vector<T>& x, std::vector<std::vector<T>>& probs,
                            std::vector<kc::Routing>& routing) {
  const std::int64_t s = l.tokens(), m = l.hidden, e_count = l.num_experts, k = l.top_k;
  if (groups < 1) throw std::invalid_argument("reference layer: groups must be >= 1");
  check_weights(l, w);
  check_size(x.size(), groups * s * m, "x");
  probs.assign(usize(groups), std::vector<T>(usize(s * e_count)));
  routing.clear();
  for (std::int64_t g = 0; g < groups; ++g) {
    kc::gate_forward(x.data() + g * s * m, w.wg.data(), s, m, e_count, probs[usize(g)].data());
    routing.push_back(
        kc::route_choices(kc::top_k_choices(probs[usize(g)].data(), s, e_count, k), s, e_count, k, 0));
  }
  const std::int64_t capacity = reference_capacity(l, routing);
  for (auto& r : routing) r = kc::route_choices(std::move(r.expert), s, e_count, k, capacity);
  return capacity;
}

// `given`: route with these (one per group) instead of the gate's own top-k and capacity.
template <typename T>
ForwardState<T> forward(const LayerConfig& l, std::int64_t groups, const LayerWeights<T>& w,
                        const std::vector<T>& x, profiler::PhaseTimer* timer,
                        const std::vector<kc::Routing>* given = nullptr) {
  const std::int64_t s = l.tokens(), m = l.hidden, e_count = l.num_experts, k = l.top_k;
  ForwardState<T> st;
  st.groups.resize(usize(groups > 0 ? groups : 0));
  {
    auto scope = profiler::time_phase(timer, "gate");
    std::vector<std::vector<T>> probs;
    std::vector<kc::Routing> routings;
    st.capacity = gate_and_route(l, groups, w, x, probs, routings);
    if (given) {
      check_given_routing(l, groups, *given);
      st.capacity = given->front().capacity;
      routings = *given;
    }
    for (std::int64_t g = 0; g < groups; ++g) {
      auto& gs = st.groups[usize(g)];
      gs.probs = std::move(probs[usize(g)]);
      gs.routing = std::move(routings[usize(g)]);
      gs.weights.resize(usize(s * k));
      kc::combine_weights(gs.routing, gs.probs.data(), gs.weights.data());
    }
  }
  const std::int64_t c = st.capacity;
  {
    auto scope = profiler::time_phase(timer, "order");
    for (std::int64_t g = 0; g < groups; ++g) {
      auto& gs = st.groups[usize(g)];
      gs.dispatched.resize(usize(e_count * c * m));
      kc::dispatch(gs.routing, x.data() + g * s * m, m, gs.dispatched.data());
    }
  }
  {
    auto scope = profiler::time_phase(timer, "experts");
    for (auto& gs : st.groups) {
      gs.y.resize(usize(e_count * c * m));
      gs.saved.resize(usize(e_count));
      for (std::int64_t e = 0; e < e_count; ++e)
        kc::expert_ffn_forward(expert_params(l, w, e), gs.dispatched.data() + e * c * m, c,
                               gs.y.data() + e * c * m, &gs.saved[usize(e)]);
    }
  }
  {
    auto scope = profiler::time_phase(timer, "combine");
    st.out.resize(usize(groups * s * m));
    for (std::int64_t g = 0; g < groups; ++g) {
      const auto& gs = st.groups[usize(g)];
      kc::combine(gs.routing, gs.weights.data(), gs.y.data(), m, st.out.data() + g * s * m);
    }
  }
  return st;
}

// dst += src; parameter gradients of later groups are added to the first group's.
template <typename T>
void add_into(std::vector<T>& dst, const std::vector<T>& src) {
  for (std::size_t i = 0; i < dst.size(); ++i) dst[i] += src[i];
}

// Where expert e's gradients go: the final buffers for the first group, scratch buffers (added later) after
// it.
template <typename T>
kc::ExpertFfnGrads<T> expert_grads(const LayerConfig& l, LayerGradients<T>& g, std::int64_t e) {
  const std::int64_t m = l.hidden, h = l.ffn_hidden;
  kc::ExpertFfnGrads<T> out;
  out.w1 = g.dw1.data() + e * m * h;
  out.w2 = g.dw2.data() + e * h * m;
  if (l.bias) {
    out.b1 = g.db1.data() + e * h;
    out.b2 = g.db2.data() + e * m;
  }
  if (is_swiglu(l)) {
    out.w3 = g.dw3.data() + e * m * h;
    if (l.bias) out.b3 = g.db3.data() + e * h;
  }
  return out;
}

template <typename T>
LayerGradients<T> zero_gradients(const LayerWeights<T>& w) {
  LayerGradients<T> g;
  g.dwg.assign(w.wg.size(), T(0));
  g.dw1.assign(w.w1.size(), T(0));
  g.db1.assign(w.b1.size(), T(0));
  g.dw3.assign(w.w3.size(), T(0));
  g.db3.assign(w.b3.size(), T(0));
  g.dw2.assign(w.w2.size(), T(0));
  g.db2.assign(w.b2.size(), T(0));
  return g;
}

}  // namespace

template <typename T>
LayerWeights<T> make_weights(const LayerConfig& l, std::uint64_t seed) {
  const std::int64_t m = l.hidden, h = l.ffn_hidden, e = l.num_experts;
  LayerWeights<T> w;
  w.wg = generate<T>(m * e, seed, TensorId::GateWeight, l);
  w.w1 = generate<T>(e * m * h, seed, TensorId::W1, l);
  w.w2 = generate<T>(e * h * m, seed, TensorId::W2, l);
  if (l.bias) {
    w.b1 = generate<T>(e * h, seed, TensorId::B1, l);
    w.b2 = generate<T>(e * m, seed, TensorId::B2, l);
  }
  if (is_swiglu(l)) {
    w.w3 = generate<T>(e * m * h, seed, TensorId::W3, l);
    if (l.bias) w.b3 = generate<T>(e * h, seed, TensorId::B3, l);
  }
  return w;
}

template <typename T>
std::vector<T> make_input(const LayerConfig& l, std::int64_t groups, std::uint64_t seed) {
  return generate<T>(groups * l.tokens() * l.hidden, seed, TensorId::Input, l);
}

template <typename T>
std::vector<T> make_output_grad(const LayerConfig& l, std::int64_t groups, std::uint64_t seed) {
  return generate<T>(groups * l.tokens() * l.hidden, seed, TensorId::OutputGrad, l);
}

std::int64_t reference_capacity(const LayerConfig& l, const std::vector<kc::Routing>& routings) {
  if (l.drop_tokens) return l.capacity_of(l.tokens());
  std::int64_t max_load = 0;
  for (const auto& r : routings)
    for (std::int64_t load : r.tokens_per_expert) max_load = std::max(max_load, load);
  return max_load;
}

template <typename T>
std::vector<kc::Routing> run_reference_routing(const LayerConfig& l, std::int64_t groups,
                                               const LayerWeights<T>& w, const std::vector<T>& x) {
  std::vector<std::vector<T>> probs;
  std::vector<kc::Routing> routing;
  gate_and_route(l, groups, w, x, probs, routing);
  return routing;
}

template <typename T>
ReferenceForward<T> run_reference_forward(const LayerConfig& l, std::int64_t groups, const LayerWeights<T>& w,
                                          const std::vector<T>& x, profiler::PhaseTimer* timer) {
  ForwardState<T> st = forward(l, groups, w, x, timer);
  ReferenceForward<T> r;
  r.out = std::move(st.out);
  r.capacity = st.capacity;
  for (auto& gs : st.groups) r.routing.push_back(std::move(gs.routing));
  return r;
}

namespace {

template <typename T>
ReferenceResult<T> layer(const LayerConfig& l, std::int64_t groups, const LayerWeights<T>& w,
                         const std::vector<T>& x, const std::vector<T>& dout, profiler::PhaseTimer* timer,
                         const std::vector<kc::Routing>* given) {
  ForwardState<T> st = forward(l, groups, w, x, timer, given);
  const std::int64_t s = l.tokens(), m = l.hidden, e_count = l.num_experts, k = l.top_k, c = st.capacity;
  check_size(dout.size(), groups * s * m, "dout");

  ReferenceResult<T> r;
  r.grads = zero_gradients(w);
  r.grads.dx.assign(usize(groups * s * m), T(0));
  // A later group's parameter gradients before they are added to the first group's.
  LayerGradients<T> scratch = groups > 1 ? zero_gradients(w) : LayerGradients<T>{};

  std::vector<std::vector<T>> dy(usize(groups));
  std::vector<std::vector<T>> dweights(usize(groups));
  {
    auto scope = profiler::time_phase(timer, "combine_bwd");
    for (std::int64_t g = 0; g < groups; ++g) {
      const auto& gs = st.groups[usize(g)];
      dy[usize(g)].resize(usize(e_count * c * m));
      dweights[usize(g)].resize(usize(s * k));
      kc::combine_backward(gs.routing, gs.weights.data(), gs.y.data(), dout.data() + g * s * m, m,
                           dy[usize(g)].data(), dweights[usize(g)].data());
    }
  }
  std::vector<std::vector<T>> d_dispatched(usize(groups));
  {
    auto scope = profiler::time_phase(timer, "experts_bwd");
    for (std::int64_t g = 0; g < groups; ++g) {
      const auto& gs = st.groups[usize(g)];
      LayerGradients<T>& target = g == 0 ? r.grads : scratch;
      d_dispatched[usize(g)].resize(usize(e_count * c * m));
      for (std::int64_t e = 0; e < e_count; ++e)
        kc::expert_ffn_backward(expert_params(l, w, e), gs.dispatched.data() + e * c * m, c,
                                gs.saved[usize(e)], dy[usize(g)].data() + e * c * m,
                                expert_grads(l, target, e), d_dispatched[usize(g)].data() + e * c * m);
      if (g > 0) {
        add_into(r.grads.dw1, scratch.dw1);
        add_into(r.grads.db1, scratch.db1);
        add_into(r.grads.dw3, scratch.dw3);
        add_into(r.grads.db3, scratch.db3);
        add_into(r.grads.dw2, scratch.dw2);
        add_into(r.grads.db2, scratch.db2);
      }
    }
  }
  {
    auto scope = profiler::time_phase(timer, "order_bwd");
    for (std::int64_t g = 0; g < groups; ++g)
      kc::dispatch_backward(st.groups[usize(g)].routing, d_dispatched[usize(g)].data(), m,
                            r.grads.dx.data() + g * s * m);
  }
  {
    auto scope = profiler::time_phase(timer, "gate_bwd");
    std::vector<T> dprobs(usize(s * e_count));
    std::vector<T> dlogits(usize(s * e_count));
    for (std::int64_t g = 0; g < groups; ++g) {
      const auto& gs = st.groups[usize(g)];
      kc::combine_weights_backward(gs.routing, gs.probs.data(), gs.weights.data(), dweights[usize(g)].data(),
                                   dprobs.data());
      T* dwg = g == 0 ? r.grads.dwg.data() : scratch.dwg.data();
      kc::gate_backward(x.data() + g * s * m, w.wg.data(), gs.probs.data(), dprobs.data(), s, m, e_count,
                        dlogits.data(), dwg, r.grads.dx.data() + g * s * m);
      if (g > 0) add_into(r.grads.dwg, scratch.dwg);
    }
  }
  r.out = std::move(st.out);
  r.capacity = c;
  for (auto& gs : st.groups) r.routing.push_back(std::move(gs.routing));
  return r;
}

}  // namespace

template <typename T>
ReferenceResult<T> run_reference_layer(const LayerConfig& l, std::int64_t groups, const LayerWeights<T>& w,
                                       const std::vector<T>& x, const std::vector<T>& dout,
                                       profiler::PhaseTimer* timer) {
  return layer(l, groups, w, x, dout, timer, nullptr);
}

template <typename T>
ReferenceResult<T> run_reference_layer_on_routing(const LayerConfig& l, std::int64_t groups,
                                                  const LayerWeights<T>& w, const std::vector<T>& x,
                                                  const std::vector<T>& dout,
                                                  const std::vector<kernels::cpu::Routing>& routing) {
  return layer(l, groups, w, x, dout, nullptr, &routing);
}

LayerFlops layer_flops(const LayerConfig& l, std::int64_t groups, std::int64_t capacity) {
  const auto d = [](std::int64_t v) { return static_cast<double>(v); };
  const double gate = 2.0 * d(groups * l.tokens()) * d(l.hidden) * d(l.num_experts);
  const double gemms_per_expert = is_swiglu(l) ? 3.0 : 2.0;
  const double experts =
      d(groups) * d(l.num_experts) * gemms_per_expert * 2.0 * d(capacity) * d(l.hidden) * d(l.ffn_hidden);
  LayerFlops f;
  f.forward = gate + experts;
  f.backward = 2.0 * f.forward;
  return f;
}

#define PARM_INSTANTIATE_REFERENCE(T)                                                                  \
  template LayerWeights<T> make_weights<T>(const LayerConfig&, std::uint64_t);                         \
  template std::vector<T> make_input<T>(const LayerConfig&, std::int64_t, std::uint64_t);              \
  template std::vector<T> make_output_grad<T>(const LayerConfig&, std::int64_t, std::uint64_t);        \
  template ReferenceForward<T> run_reference_forward<T>(const LayerConfig&, std::int64_t,              \
                                                        const LayerWeights<T>&, const std::vector<T>&, \
                                                        profiler::PhaseTimer*);                        \
  template ReferenceResult<T> run_reference_layer<T>(const LayerConfig&, std::int64_t,                 \
                                                     const LayerWeights<T>&, const std::vector<T>&,    \
                                                     const std::vector<T>&, profiler::PhaseTimer*);    \
  template std::vector<kernels::cpu::Routing> run_reference_routing<T>(                                \
      const LayerConfig&, std::int64_t, const LayerWeights<T>&, const std::vector<T>&);                \
  template ReferenceResult<T> run_reference_layer_on_routing<T>(                                       \
      const LayerConfig&, std::int64_t, const LayerWeights<T>&, const std::vector<T>&,                 \
      const std::vector<T>&, const std::vector<kernels::cpu::Routing>&);

PARM_INSTANTIATE_REFERENCE(float)
PARM_INSTANTIATE_REFERENCE(double)
#undef PARM_INSTANTIATE_REFERENCE

}  // namespace parm
