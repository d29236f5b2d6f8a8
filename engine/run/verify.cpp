#include "engine/run/verify.h"

#include <algorithm>
#include <cmath>
#include <type_traits>

#include "engine/backend/element_type.h"
#include "engine/reference/reference_layer.h"

namespace parm {

double VerifyReport::worst() const {
  return std::max({output, input_grad, router_grad, expert_grads});
}

double verify_tolerance(DType dtype) {
  switch (dtype) {
    case DType::Fp32:
      return 1e-5;
    case DType::Fp64:
      return 1e-12;
    case DType::Bf16:
      return 2e-2;  // 8 significant bits: each stored activation carries up to 2^-9 relative rounding
    case DType::Fp16:
      return 1e-2;  // 11 significant bits, but a smaller range than bf16
  }
  return 0;
}

namespace {

template <typename T>
using Ref = typename HostMath<T>::type;

template <typename A, typename B>
double relative_error(const A* got, const B* want, std::size_t n) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < n; ++i) {
    diff = std::max(diff, std::fabs(to_double(got[i]) - to_double(want[i])));
    scale = std::max(scale, std::fabs(to_double(want[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

// The executor's tensor in the reference's type: a copy for fp32/fp64, widened to float for 16-bit.
template <typename T>
std::vector<Ref<T>> widened(const std::vector<T>& v) {
  if constexpr (std::is_same_v<Ref<T>, T>) {
    return v;
  } else {
    std::vector<Ref<T>> out(v.size());
    std::transform(v.begin(), v.end(), out.begin(), [](T x) { return static_cast<Ref<T>>(x); });
    return out;
  }
}

// The reference's inputs as the run holds them: for 16-bit, each fp32 value rounded to T and back, so the
// fp32 reference sees exactly the run's (rounded) inputs and weights.
template <typename T>
void round_through(std::vector<Ref<T>>& v) {
  if constexpr (!std::is_same_v<Ref<T>, T>)
    for (auto& x : v) x = static_cast<Ref<T>>(T(x));
}

template <typename T>
void round_through(LayerWeights<Ref<T>>& w) {
  for (auto* v : {&w.wg, &w.w1, &w.b1, &w.w3, &w.b3, &w.w2, &w.b2}) round_through<T>(*v);
}

// A local shard (E_loc, rows, cols_local) against columns [c0, c0+cols_local) of the reference (E, rows,
// cols).
template <typename R>
double shard_error(const std::vector<R>& local, const std::vector<R>& reference, std::int64_t first_expert,
                   std::int64_t local_experts, std::int64_t rows, std::int64_t cols, std::int64_t c0,
                   std::int64_t cols_local) {
  if (local.empty()) return 0;
  std::vector<R> want(local.size());
  for (std::int64_t e = 0; e < local_experts; ++e)
    for (std::int64_t r = 0; r < rows; ++r)
      std::copy_n(reference.data() + ((first_expert + e) * rows + r) * cols + c0, cols_local,
                  want.data() + (e * rows + r) * cols_local);
  return relative_error(local.data(), want.data(), local.size());
}

}  // namespace

// The reference runs in Ref<T> (T for fp32/fp64, fp32 for the 16-bit types) on the run's own inputs; the
// gradient sums a trainer would do are taken in Ref<T> too (MPI cannot reduce 16-bit types).
template <typename T>
VerifyReport verify_against_reference(const Config& config, const RankLayout& layout,
                                      comm::CommGroups& groups, const LayerExecutor<T>& executor) {
  using R = Ref<T>;
  const LayerConfig& l = config.layer;
  const std::int64_t group_count = config.parallel.mp_groups(), s = l.tokens(), m = l.hidden;
  auto w = make_weights<R>(l, config.run.seed);
  auto x = make_input<R>(l, group_count, config.run.seed);
  auto dout = make_output_grad<R>(l, group_count, config.run.seed);
  round_through<T>(w);
  round_through<T>(x);
  round_through<T>(dout);
  const auto ref = run_reference_layer<R>(l, group_count, w, x, dout);
  const comm::DataType sum_type = backend::comm_data_type<R>();

  VerifyReport r;
  const std::size_t offset = static_cast<std::size_t>(layout.mp_group * s * m);
  r.output =
      relative_error(executor.output().data(), ref.out.data() + offset, static_cast<std::size_t>(s * m));
  r.input_grad = relative_error(executor.input_grad().data(), ref.grads.dx.data() + offset,
                                static_cast<std::size_t>(s * m));

  // Router: one copy per MP group (S1 already summed its slices inside the group), summed over the groups.
  const LocalGradients<T>& got = executor.gradients();
  std::vector<R> dwg = widened(got.dwg);
  groups.ep->all_reduce(dwg.data(), dwg.size(), sum_type, comm::ReduceOp::Sum);
  r.router_grad = relative_error(dwg.data(), ref.grads.dwg.data(), dwg.size());

  // Experts: whole experts are replicated over the MP group, each replica seeing a part of the tokens.
  LocalGradients<R> g{{},
                      widened(got.dw1),
                      widened(got.dw3),
                      widened(got.db1),
                      widened(got.db3),
                      widened(got.dw2),
                      widened(got.db2)};
  if (layout.esp_size == 1 && layout.mp_size > 1)
    for (auto* v : {&g.dw1, &g.db1, &g.dw3, &g.db3, &g.dw2, &g.db2})
      if (!v->empty()) groups.mp->all_reduce(v->data(), v->size(), sum_type, comm::ReduceOp::Sum);
  const LocalWeights<T>& lw = executor.weights();
  const std::int64_t h = l.ffn_hidden, hs = lw.shard, h0 = lw.h0, fe = lw.first_expert, el = lw.local_experts;
  r.expert_grads = std::max({shard_error(g.dw1, ref.grads.dw1, fe, el, m, h, h0, hs),
                             shard_error(g.dw3, ref.grads.dw3, fe, el, m, h, h0, hs),
                             shard_error(g.db1, ref.grads.db1, fe, el, 1, h, h0, hs),
                             shard_error(g.db3, ref.grads.db3, fe, el, 1, h, h0, hs),
                             shard_error(g.db2, ref.grads.db2, fe, el, 1, m, 0, m)});
  // W2 shards are row ranges [h0, h0+hs) of each expert's (H, M) block.
  if (!g.dw2.empty()) {
    std::vector<R> want(g.dw2.size());
    for (std::int64_t e = 0; e < el; ++e)
      std::copy_n(ref.grads.dw2.data() + ((fe + e) * h + h0) * m, hs * m, want.data() + e * hs * m);
    r.expert_grads = std::max(r.expert_grads, relative_error(g.dw2.data(), want.data(), want.size()));
  }

  double worst[4] = {r.output, r.input_grad, r.router_grad, r.expert_grads};
  groups.world->all_reduce(worst, 4, comm::DataType::F64, comm::ReduceOp::Max);
  // Every MP rank routes its group's tokens identically except in S1, where each routes its own slice.
  const bool own_slice = executor.schedule().split_tokens || layout.mp_index == 0;
  std::int64_t dropped = own_slice ? executor.routing().dropped_choices() : 0;
  groups.world->all_reduce(&dropped, 1, comm::DataType::I64, comm::ReduceOp::Sum);
  std::int64_t reference_dropped = 0;
  for (const auto& routing : ref.routing) reference_dropped += dropped_choices(routing);
  return {worst[0], worst[1], worst[2], worst[3], dropped, reference_dropped};
}

#define PARM_INSTANTIATE_VERIFY(T)                                                                       \
  template VerifyReport verify_against_reference<T>(const Config&, const RankLayout&, comm::CommGroups&, \
                                                    const LayerExecutor<T>&);
PARM_INSTANTIATE_VERIFY(float)
PARM_INSTANTIATE_VERIFY(double)
PARM_INSTANTIATE_VERIFY(Bf16)
PARM_INSTANTIATE_VERIFY(F16)
#undef PARM_INSTANTIATE_VERIFY

}  // namespace parm
