#include "engine/backend/cpu/cpu_compute.h"

#include <algorithm>
#include <span>
#include <stdexcept>
#include <vector>

#include "engine/backend/cpu/cpu_streams.h"
#include "kernels/cpu/blas.h"
#include "kernels/cpu/dispatch.h"
#include "kernels/cpu/expert_ffn.h"
#include "kernels/cpu/gate.h"
#include "kernels/cpu/routing.h"

namespace parm::backend::cpu {
namespace {

struct CpuRouting final : RoutingState {
  kernels::cpu::Routing routing;
};

template <typename T>
struct CpuExpertState final : ExpertState {
  struct PerExpert {
    std::vector<T> input;  // packed rows (rows, M)
    kernels::cpu::ExpertFfnSaved<T> saved;
  };
  std::vector<PerExpert> experts;
};

const kernels::cpu::Routing& routing_of(const RoutingState& r) {
  return dynamic_cast<const CpuRouting&>(r).routing;
}
kernels::cpu::Routing& routing_of(RoutingState& r) {
  return dynamic_cast<CpuRouting&>(r).routing;
}

template <typename T>
const T* or_null(View<const T> v, std::int64_t offset) {
  return v.empty() ? nullptr : v.data() + offset;
}
template <typename T>
T* or_null(View<T> v, std::int64_t offset) {
  return v.empty() ? nullptr : v.data() + offset;
}

template <typename T>
kernels::cpu::ExpertFfnParams<T> expert_params(const ExpertWeights<T>& w, std::int64_t le) {
  const std::int64_t m = w.hidden, hs = w.shard;
  kernels::cpu::ExpertFfnParams<T> p;
  p.activation = w.activation == ExpertActivation::Swiglu ? kernels::cpu::FfnActivation::Swiglu
                                                          : kernels::cpu::FfnActivation::Gelu;
  p.hidden = m;
  p.ffn_hidden = hs;
  p.w1 = or_null(w.w1, le * m * hs);
  p.b1 = or_null(w.b1, le * hs);
  p.w3 = or_null(w.w3, le * m * hs);
  p.b3 = or_null(w.b3, le * hs);
  p.w2 = or_null(w.w2, le * hs * m);
  p.b2 = or_null(w.b2, le * m);
  return p;
}

template <typename T>
void copy_blocks_now(const T* src, T* dst, const layout::BlockCopy& map) {
  for (std::int64_t i = 0; i < map.blocks; ++i)
    std::copy_n(src + map.src_offset(i), map.length, dst + map.dst_offset(i));
}

template <typename T>
class CpuCompute final : public Compute<T> {
 public:
  std::unique_ptr<RoutingState> make_routing() override { return std::make_unique<CpuRouting>(); }
  std::unique_ptr<ExpertState> make_expert_state() override { return std::make_unique<CpuExpertState<T>>(); }

  void gate_forward(Stream& s, View<const T> x, View<const T> wg, std::int64_t tokens, std::int64_t hidden,
                    std::int64_t experts, std::int64_t top_k, View<T> probs, RoutingState& routing) override {
    kernels::cpu::Routing& r = routing_of(routing);
    cpu_stream(s).enqueue([=, &r] {
      kernels::cpu::gate_forward(x.data(), wg.data(), tokens, hidden, experts, probs.data());
      r = kernels::cpu::Routing{};
      r.tokens = tokens;
      r.experts = experts;
      r.top_k = top_k;
      r.expert = kernels::cpu::top_k_choices(probs.data(), tokens, experts, top_k);
      r.tokens_per_expert = kernels::cpu::expert_loads(r.expert, experts);
    });
  }

  void route(Stream& s, RoutingState& routing, std::int64_t capacity, View<const T> probs,
             View<T> combine_weights) override {
    kernels::cpu::Routing& r = routing_of(routing);
    cpu_stream(s).enqueue([=, &r] {
      r = kernels::cpu::route_choices(std::move(r.expert), r.tokens, r.experts, r.top_k, capacity);
      std::fill_n(combine_weights.data(), combine_weights.size(), T(0));
      kernels::cpu::combine_weights(r, probs.data(), combine_weights.data());
    });
  }

  std::vector<std::int64_t> expert_loads(const RoutingState& routing) const override {
    return routing_of(routing).tokens_per_expert;
  }

  HostRouting host_routing(const RoutingState& routing) const override {
    const kernels::cpu::Routing& r = routing_of(routing);
    return {r.tokens, r.experts, r.top_k, r.capacity, r.expert, r.position, r.tokens_per_expert};
  }

  void gate_backward(Stream& s, const RoutingState& routing, View<const T> x, View<const T> wg,
                     View<const T> probs, View<const T> combine_weights, View<const T> dweights,
                     std::int64_t hidden, View<T> dwg, View<T> dx) override {
    const kernels::cpu::Routing& r = routing_of(routing);
    cpu_stream(s).enqueue([=, &r] {
      std::vector<T> dprobs(static_cast<std::size_t>(r.tokens * r.experts));
      std::vector<T> dlogits(dprobs.size());
      kernels::cpu::combine_weights_backward(r, probs.data(), combine_weights.data(), dweights.data(),
                                             dprobs.data());
      kernels::cpu::gate_backward(x.data(), wg.data(), probs.data(), dprobs.data(), r.tokens, hidden,
                                  r.experts, dlogits.data(), dwg.data(), dx.data());
    });
  }

  void dispatch(Stream& s, const RoutingState& routing, View<const T> x, std::int64_t hidden,
                View<T> out) override {
    const kernels::cpu::Routing& r = routing_of(routing);
    cpu_stream(s).enqueue([=, &r] { kernels::cpu::dispatch(r, x.data(), hidden, out.data()); });
  }

  void dispatch_backward(Stream& s, const RoutingState& routing, View<const T> d_dispatched,
                         std::int64_t hidden, View<T> dx) override {
    const kernels::cpu::Routing& r = routing_of(routing);
    cpu_stream(s).enqueue([=, &r] {
      std::fill_n(dx.data(), dx.size(), T(0));  // the kernel accumulates
      kernels::cpu::dispatch_backward(r, d_dispatched.data(), hidden, dx.data());
    });
  }

  void combine(Stream& s, const RoutingState& routing, View<const T> weights, View<const T> y,
               std::int64_t hidden, View<T> out) override {
    const kernels::cpu::Routing& r = routing_of(routing);
    cpu_stream(s).enqueue(
        [=, &r] { kernels::cpu::combine(r, weights.data(), y.data(), hidden, out.data()); });
  }

  void combine_backward(Stream& s, const RoutingState& routing, View<const T> weights, View<const T> y,
                        View<const T> dout, std::int64_t hidden, View<T> dy, View<T> dweights) override {
    const kernels::cpu::Routing& r = routing_of(routing);
    cpu_stream(s).enqueue([=, &r] {
      std::fill_n(dweights.data(), dweights.size(), T(0));
      kernels::cpu::combine_backward(r, weights.data(), y.data(), dout.data(), hidden, dy.data(),
                                     dweights.data());
    });
  }

  // Expert e's rows are spread over the outer blocks (senders, and peers after a gather); the GEMMs want
  // them contiguous, so they are packed per expert and unpacked after. Row order does not matter to a
  // row-wise FFN.
  void experts_forward(Stream& s, const ExpertWeights<T>& w, DispatchShape shape, View<const T> in,
                       ExpertState& saved, View<T> out) override {
    auto& st = dynamic_cast<CpuExpertState<T>&>(saved);
    cpu_stream(s).enqueue([=, &st] {
      const std::int64_t outer = shape.outer, el = shape.experts, c = shape.slot_count, m = shape.width;
      const std::int64_t rows = outer * c;
      st.experts.resize(static_cast<std::size_t>(el));
      std::vector<T> y(static_cast<std::size_t>(rows * m));
      for (std::int64_t e = 0; e < el; ++e) {
        auto& mine = st.experts[static_cast<std::size_t>(e)];
        mine.input.resize(static_cast<std::size_t>(rows * m));
        copy_blocks_now(in.data(), mine.input.data(), layout::pack_expert(outer, el, e, c, m));
        kernels::cpu::expert_ffn_forward(expert_params(w, e), mine.input.data(), rows, y.data(), &mine.saved);
        copy_blocks_now(y.data(), out.data(), layout::unpack_expert(outer, el, e, c, m));
      }
    });
  }

  void experts_backward(Stream& s, const ExpertWeights<T>& w, DispatchShape shape, View<const T> dy,
                        const ExpertState& saved, const ExpertGrads<T>& grads, View<T> dx) override {
    const auto& st = dynamic_cast<const CpuExpertState<T>&>(saved);
    cpu_stream(s).enqueue([=, &st] {
      const std::int64_t outer = shape.outer, el = shape.experts, c = shape.slot_count, m = shape.width;
      const std::int64_t rows = outer * c, hs = w.shard;
      std::vector<T> packed(static_cast<std::size_t>(rows * m)), dxd(packed.size());
      for (std::int64_t e = 0; e < el; ++e) {
        copy_blocks_now(dy.data(), packed.data(), layout::pack_expert(outer, el, e, c, m));
        kernels::cpu::ExpertFfnGrads<T> g;
        g.w1 = or_null(grads.w1, e * m * hs);
        g.b1 = or_null(grads.b1, e * hs);
        g.w3 = or_null(grads.w3, e * m * hs);
        g.b3 = or_null(grads.b3, e * hs);
        g.w2 = or_null(grads.w2, e * hs * m);
        g.b2 = or_null(grads.b2, e * m);
        const auto& mine = st.experts.at(static_cast<std::size_t>(e));
        kernels::cpu::expert_ffn_backward(expert_params(w, e), mine.input.data(), rows, mine.saved,
                                          packed.data(), g, dxd.data());
        copy_blocks_now(dxd.data(), dx.data(), layout::unpack_expert(outer, el, e, c, m));
      }
    });
  }

  // Per expert: the packed input (rows, M) and h, v, z (rows, Hs), rows = row_blocks x slots.
  void copy_expert_state(Stream& s, const ExpertState& from, ExpertState& to,
                         const ExpertStateSlots& slots) override {
    const auto& src = dynamic_cast<const CpuExpertState<T>&>(from);
    auto& dst = dynamic_cast<CpuExpertState<T>&>(to);
    cpu_stream(s).enqueue([&src, &dst, slots] {
      const std::int64_t rows = slots.row_blocks * slots.to_slots, m = slots.to_shape.width;
      dst.experts.resize(src.experts.size());
      const auto move = [&](const std::vector<T>& a, std::vector<T>& b, std::int64_t from_rows) {
        if (a.empty() || from_rows == 0) {
          b.clear();
          return;
        }
        const std::int64_t width = static_cast<std::int64_t>(a.size()) / from_rows;
        b.resize(static_cast<std::size_t>(rows * width));
        copy_blocks_now(a.data(), b.data(), expert_state_copy(slots, slots.row_blocks, width));
      };
      for (std::size_t e = 0; e < src.experts.size(); ++e) {
        const auto& a = src.experts[e];
        auto& b = dst.experts[e];
        const std::int64_t from_rows = a.saved.rows;
        if (from_rows != slots.row_blocks * slots.from_slots ||
            static_cast<std::int64_t>(a.input.size()) != from_rows * m)
          throw std::logic_error("copy_expert_state: the saved state is from another shape");
        move(a.input, b.input, from_rows);
        move(a.saved.h, b.saved.h, from_rows);
        move(a.saved.v, b.saved.v, from_rows);
        move(a.saved.z, b.saved.z, from_rows);
        b.saved.rows = rows;
      }
    });
  }

  void gemm(Stream& s, View<const T> a, View<const T> b, std::int64_t m, std::int64_t n, std::int64_t k,
            View<T> c) override {
    cpu_stream(s).enqueue([=] {
      kernels::cpu::gemm<T>(kernels::cpu::Trans::No, kernels::cpu::Trans::No, m, n, k, T(1), a.data(),
                            b.data(), T(0), c.data());
    });
  }

  void scale(Stream& s, View<T> values, T factor) override {
    cpu_stream(s).enqueue([=] {
      for (T& v : std::span(values.data(), values.size())) v *= factor;
    });
  }

  void accumulate(Stream& s, View<const T> part, View<T> into) override {
    cpu_stream(s).enqueue([=] {
      const std::size_t n = std::min(part.size(), into.size());
      for (std::size_t i = 0; i < n; ++i) into.data()[i] += part.data()[i];
    });
  }

  void copy_blocks(Stream& s, View<const T> src, View<T> dst, const layout::BlockCopy& map) override {
    if (static_cast<std::size_t>(map.elements()) > dst.size())
      throw std::logic_error("copy_blocks: the map writes past its destination");
    cpu_stream(s).enqueue([=] { copy_blocks_now(src.data(), dst.data(), map); });
  }

  void copy(Stream& s, View<const T> src, View<T> dst) override {
    cpu_stream(s).enqueue([=] { std::copy_n(src.data(), std::min(src.size(), dst.size()), dst.data()); });
  }
};

}  // namespace

template <typename T>
std::unique_ptr<Compute<T>> make_cpu_compute() {
  return std::make_unique<CpuCompute<T>>();
}

template std::unique_ptr<Compute<float>> make_cpu_compute<float>();
template std::unique_ptr<Compute<double>> make_cpu_compute<double>();

}  // namespace parm::backend::cpu
