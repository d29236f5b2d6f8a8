// A whole model's training step on this rank (engine/run/model_executor.h) against the reference model
// (engine/reference/reference_model.h): the loss and, after the gradient sync, this rank's slice of every
// dense gradient and every MoE block's router and expert gradients, as the worst relative error (max |got -
// want| / max |want| per tensor) with the tensor that has it. Header-only, no Qt: the QtTest suite and the
// GPU test (tests/gpu) both use it.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/core/model_parameters.h"
#include "engine/core/rank_layout.h"
#include "engine/reference/reference_model.h"
#include "engine/run/model_executor.h"

namespace parm::test {

struct StepError {
  double error = 0;
  std::string tensor;
  void note(double e, const std::string& name) {
    if (!(e <= error)) {  // NaN counts as worst
      error = e;
      tensor = name;
    }
  }
};

template <typename A, typename B>
double tensor_error(const A& got, const B& want) {
  double diff = 0, scale = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    diff = std::max(diff, std::fabs(double(got[i]) - double(want[i])));
    scale = std::max(scale, std::fabs(double(want[i])));
  }
  if (got.size() != want.size()) return 1e300;
  return scale > 0 ? diff / scale : diff;
}

// MP rank j's slice of a global tensor.
template <typename T>
std::vector<T> slice_of(const ParameterSpec& spec, const std::vector<T>& global, std::int64_t j,
                        std::int64_t t) {
  const std::int64_t rows = spec.local_rows(t), cols = spec.local_cols(t);
  std::vector<T> out(static_cast<std::size_t>(rows * cols));
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c)
      out[static_cast<std::size_t>(r * cols + c)] =
          global[static_cast<std::size_t>(spec.global_index(j, t, r, c))];
  return out;
}

// Expert tensor (E, rows, cols) restricted to the rank's experts and columns [c0, c0 + n).
template <typename T>
std::vector<T> expert_shard(const std::vector<T>& global, std::int64_t first, std::int64_t experts,
                            std::int64_t rows, std::int64_t cols, std::int64_t c0, std::int64_t n) {
  std::vector<T> out;
  for (std::int64_t e = 0; e < experts; ++e)
    for (std::int64_t r = 0; r < rows; ++r)
      for (std::int64_t c = 0; c < n; ++c)
        out.push_back(global[static_cast<std::size_t>(((first + e) * rows + r) * cols + c0 + c)]);
  return out;
}

template <typename T>
StepError model_step_error(const Config& c, const RankLayout& layout, const ModelExecutor<T>& exec,
                           const ReferenceModelResult<double>& ref) {
  StepError w;
  w.note(std::fabs(exec.loss() - ref.loss) / std::fabs(ref.loss), "loss");
  const std::vector<std::vector<T>> grads = exec.dense_gradients();
  for (std::size_t i = 0; i < ref.specs.size(); ++i) {
    const ParameterSpec& spec = ref.specs[i];
    w.note(tensor_error(grads[i], slice_of(spec, ref.dense_grads[i], layout.mp_index, layout.mp_size)),
           spec.name());
  }
  const std::int64_t m = c.layer.hidden, h = c.layer.ffn_hidden;
  for (std::size_t k = 0; k < exec.moe_layers(); ++k) {
    const LayerExecutor<T>& layer = exec.moe_layer(k);
    const LocalGradients<T>& g = layer.gradients();
    const LocalWeights<T>& lw = layer.weights();
    const LayerGradients<double>& r = ref.moe_grads[k];
    const std::string name = "moe" + std::to_string(k) + ".";
    const std::int64_t fe = lw.first_expert, el = lw.local_experts, h0 = lw.h0, hs = lw.shard;
    w.note(tensor_error(g.dwg, r.dwg), name + "dWg");
    w.note(tensor_error(g.dw1, expert_shard(r.dw1, fe, el, m, h, h0, hs)), name + "dW1");
    w.note(tensor_error(g.db1, expert_shard(r.db1, fe, el, 1, h, h0, hs)), name + "db1");
    std::vector<double> w2;  // W2 shards are row ranges [h0, h0 + hs) of each expert's (H, M) block
    for (std::int64_t e = 0; e < el; ++e)
      for (std::int64_t row = h0; row < h0 + hs; ++row)
        for (std::int64_t col = 0; col < m; ++col)
          w2.push_back(r.dw2[static_cast<std::size_t>(((fe + e) * h + row) * m + col)]);
    w.note(tensor_error(g.dw2, w2), name + "dW2");
    if (!g.db2.empty()) w.note(tensor_error(g.db2, expert_shard(r.db2, fe, el, 1, m, 0, m)), name + "db2");
  }
  return w;
}

// The test configurations: no drops (drop_tokens false: every schedule routes as the reference), 3 blocks
// with the MoE layer in the middle one (moe_every 2) or in all (1), on `ranks` ranks.
inline Config model_step_config(ModelStyle style, std::int64_t ranks, std::int64_t mp, std::int64_t esp,
                                std::int64_t moe_every) {
  Config c;
  c.name = "model";
  c.layer.batch = 2;
  c.layer.seq_len = 8;
  c.layer.hidden = 16;
  c.layer.ffn_hidden = 32;
  c.layer.num_experts = 8;
  c.layer.top_k = 2;
  c.layer.drop_tokens = false;
  c.layer.min_capacity = 1;
  c.layer.dtype = DType::Fp64;
  c.parallel = {ranks, 2, mp, esp};
  c.run.seed = 11;
  c.model = ModelConfig{style, 3, 4, 50, moe_every};
  return c;
}

}  // namespace parm::test
