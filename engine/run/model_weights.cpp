#include "engine/run/model_weights.h"

#include <algorithm>

#include "engine/backend/element_type.h"
#include "engine/run/tensor_init.h"

namespace parm {
namespace {

std::vector<std::int64_t> make_ids(const Config& config, std::int64_t groups, std::uint64_t seed,
                                   TensorId id) {
  const std::int64_t n = groups * config.layer.tokens(), vocab = config.model->vocab;
  std::vector<std::int64_t> ids(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    const double u01 = 0.5 * (counter_uniform(seed, id, static_cast<std::uint64_t>(i)) + 1.0);
    ids[static_cast<std::size_t>(i)] = std::min(vocab - 1, static_cast<std::int64_t>(u01 * double(vocab)));
  }
  return ids;
}

}  // namespace

template <typename T>
std::vector<T> make_parameter(const ParameterSpec& spec, std::uint64_t seed, std::int64_t j, std::int64_t t) {
  const std::int64_t rows = spec.local_rows(t), cols = spec.local_cols(t);
  const TensorId id = model_tensor_id(static_cast<int>(spec.tensor), spec.block);
  std::vector<T> out(static_cast<std::size_t>(rows * cols));
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) {
      const auto g = static_cast<std::uint64_t>(spec.global_index(j, t, r, c));
      out[static_cast<std::size_t>(r * cols + c)] =
          backend::from_double<T>(spec.offset + spec.scale * counter_uniform(seed, id, g));
    }
  return out;
}

std::vector<std::int64_t> make_model_tokens(const Config& config, std::int64_t groups, std::uint64_t seed) {
  return make_ids(config, groups, seed, TensorId::ModelTokens);
}

std::vector<std::int64_t> make_model_targets(const Config& config, std::int64_t groups, std::uint64_t seed) {
  return make_ids(config, groups, seed, TensorId::ModelTargets);
}

std::vector<std::int64_t> make_position_ids(const LayerConfig& layer) {
  std::vector<std::int64_t> ids(static_cast<std::size_t>(layer.tokens()));
  for (std::size_t r = 0; r < ids.size(); ++r) ids[r] = static_cast<std::int64_t>(r) % layer.seq_len;
  return ids;
}

std::vector<std::int64_t> make_type_ids(const LayerConfig& layer) {
  std::vector<std::int64_t> ids = make_position_ids(layer);
  for (auto& p : ids) p = 2 * p >= layer.seq_len ? 1 : 0;
  return ids;
}

std::uint64_t moe_block_seed(std::uint64_t seed, std::int64_t block) {
  return seed + 0x9e3779b97f4a7c15ULL * static_cast<std::uint64_t>(block + 1);
}

template std::vector<float> make_parameter<float>(const ParameterSpec&, std::uint64_t, std::int64_t,
                                                  std::int64_t);
template std::vector<double> make_parameter<double>(const ParameterSpec&, std::uint64_t, std::int64_t,
                                                    std::int64_t);

}  // namespace parm
