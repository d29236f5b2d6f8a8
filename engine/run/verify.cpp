#include "engine/run/verify.h"

#include <algorithm>
#include <cmath>

#include "engine/reference/reference_layer.h"

namespace parm {

double VerifyReport::worst() const {
  return std::max({output, input_grad, router_grad, expert_grads});
}

namespace {

template <typename T>
double relative_error(const T* got, const T* want, std::size_t n) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < n; ++i) {
    diff = std::max(diff, std::fabs(static_cast<double>(got[i]) - static_cast<double>(want[i])));
    scale = std::max(scale, std::fabs(static_cast<double>(want[i])));
  }
  return scale > 0 ? diff / scale : diff;
}

template <typename T>
comm::DataType data_type() {
  return sizeof(T) == sizeof(double) ? comm::DataType::F64 : comm::DataType::F32;
}

// A local shard (E_loc, rows, cols_local) against columns [c0, c0+cols_local) of the reference (E, rows,
// cols).
template <typename T>
double shard_error(const std::vector<T>& local, const std::vector<T>& reference, std::int64_t first_expert,
                   std::int64_t local_experts, std::int64_t rows, std::int64_t cols, std::int64_t c0,
                   std::int64_t cols_local) {
  if (local.empty()) return 0;
  std::vector<T> want(local.size());
  for (std::int64_t e = 0; e < local_experts; ++e)
    for (std::int64_t r = 0; r < rows; ++r)
      std::copy_n(reference.data() + ((first_expert + e) * rows + r) * cols + c0, cols_local,
                  want.data() + (e * rows + r) * cols_local);
  return relative_error(local.data(), want.data(), local.size());
}

}  // namespace

template <typename T>
VerifyReport verify_against_reference(const Config& config, const RankLayout& layout,
                                      comm::CommGroups& groups, const LayerExecutor<T>& executor) {
  const LayerConfig& l = config.layer;
  const std::int64_t group_count = config.parallel.mp_groups(), s = l.tokens(), m = l.hidden;
  const auto w = make_weights<T>(l, config.run.seed);
  const auto x = make_input<T>(l, group_count, config.run.seed);
  const auto dout = make_output_grad<T>(l, group_count, config.run.seed);
  const auto ref = run_reference_layer<T>(l, group_count, w, x, dout);

  VerifyReport r;
  const std::size_t offset = static_cast<std::size_t>(layout.mp_group * s * m);
  r.output =
      relative_error(executor.output().data(), ref.out.data() + offset, static_cast<std::size_t>(s * m));
  r.input_grad = relative_error(executor.input_grad().data(), ref.grads.dx.data() + offset,
                                static_cast<std::size_t>(s * m));

  // Router: one copy per MP group (S1 already summed its slices inside the group), summed over the groups.
  std::vector<T> dwg = executor.gradients().dwg;
  groups.ep->all_reduce(dwg.data(), dwg.size(), data_type<T>(), comm::ReduceOp::Sum);
  r.router_grad = relative_error(dwg.data(), ref.grads.dwg.data(), dwg.size());

  // Experts: whole experts are replicated over the MP group, each replica seeing a part of the tokens.
  LocalGradients<T> g = executor.gradients();
  if (layout.esp_size == 1 && layout.mp_size > 1)
    for (auto* v : {&g.dw1, &g.db1, &g.dw3, &g.db3, &g.dw2, &g.db2})
      if (!v->empty()) groups.mp->all_reduce(v->data(), v->size(), data_type<T>(), comm::ReduceOp::Sum);
  const LocalWeights<T>& lw = executor.weights();
  const std::int64_t h = l.ffn_hidden, hs = lw.shard, h0 = lw.h0, fe = lw.first_expert, el = lw.local_experts;
  r.expert_grads = std::max({shard_error(g.dw1, ref.grads.dw1, fe, el, m, h, h0, hs),
                             shard_error(g.dw3, ref.grads.dw3, fe, el, m, h, h0, hs),
                             shard_error(g.db1, ref.grads.db1, fe, el, 1, h, h0, hs),
                             shard_error(g.db3, ref.grads.db3, fe, el, 1, h, h0, hs),
                             shard_error(g.db2, ref.grads.db2, fe, el, 1, m, 0, m)});
  // W2 shards are row ranges [h0, h0+hs) of each expert's (H, M) block.
  if (!g.dw2.empty()) {
    std::vector<T> want(g.dw2.size());
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

template VerifyReport verify_against_reference<float>(const Config&, const RankLayout&, comm::CommGroups&,
                                                      const LayerExecutor<float>&);
template VerifyReport verify_against_reference<double>(const Config&, const RankLayout&, comm::CommGroups&,
                                                       const LayerExecutor<double>&);

}  // namespace parm
