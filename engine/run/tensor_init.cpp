#include "engine/run/tensor_init.h"

#include <cmath>
#include <stdexcept>

#include "engine/backend/element_type.h"

namespace parm {
namespace {

// splitmix64's finaliser: a bijection on 64 bits with full avalanche, so neighbouring counters look
// unrelated.
std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// One key per (seed, tensor): mixing twice keeps seed s / tensor t apart from seed s' / tensor t'.
std::uint64_t tensor_key(std::uint64_t seed, TensorId id) {
  return mix64(mix64(seed + 0x9e3779b97f4a7c15ULL) ^
               (static_cast<std::uint64_t>(id) * 0xd1b54a32d192ed03ULL));
}

double uniform_from_key(std::uint64_t key, std::uint64_t index) {
  const std::uint64_t bits = mix64(key ^ mix64(index + 0x632be59bd9b4e019ULL));
  // Top 53 bits scaled by 2^-52 -> [0, 2) with every value exact in a double, then shifted to [-1, 1).
  return static_cast<double>(bits >> 11) * 0x1.0p-52 - 1.0;
}

}  // namespace

double counter_uniform(std::uint64_t seed, TensorId id, std::uint64_t global_index) {
  return uniform_from_key(tensor_key(seed, id), global_index);
}

double tensor_scale(TensorId id, std::int64_t hidden, std::int64_t ffn_hidden) {
  switch (id) {
    case TensorId::Input:
    case TensorId::OutputGrad:
      return 1.0;
    case TensorId::GateWeight:
    case TensorId::W1:
    case TensorId::W3:
      return 1.0 / std::sqrt(static_cast<double>(hidden));
    case TensorId::W2:
      return 1.0 / std::sqrt(static_cast<double>(ffn_hidden));
    case TensorId::B1:
    case TensorId::B3:
    case TensorId::B2:
      return 0.1;
    case TensorId::ModelTokens:
    case TensorId::ModelTargets:
    case TensorId::ModelParameters:
      break;  // a model's tensors carry their scale in model_parameters.h
  }
  throw std::invalid_argument("tensor_scale: unknown tensor id");
}

template <typename T>
void fill(T* dst, std::int64_t count, std::uint64_t seed, TensorId id, std::uint64_t first_global_index,
          double scale) {
  const std::uint64_t key = tensor_key(seed, id);
  for (std::int64_t i = 0; i < count; ++i)
    dst[i] = backend::from_double<T>(
        scale * uniform_from_key(key, first_global_index + static_cast<std::uint64_t>(i)));
}

template <typename T>
void fill_in_projection_shard(T* dst, std::uint64_t seed, TensorId id, std::int64_t expert,
                              std::int64_t hidden, std::int64_t ffn_hidden, std::int64_t h0,
                              std::int64_t h1) {
  if (id != TensorId::W1 && id != TensorId::W3)
    throw std::invalid_argument("fill_in_projection_shard: W1 or W3 only");
  if (h0 < 0 || h1 < h0 || h1 > ffn_hidden)
    throw std::invalid_argument("fill_in_projection_shard: bad range");
  const double scale = tensor_scale(id, hidden, ffn_hidden);
  const std::int64_t width = h1 - h0;
  // Each row of the shard is a contiguous run of the global row (e, m, :).
  for (std::int64_t m = 0; m < hidden; ++m) {
    const auto first = static_cast<std::uint64_t>((expert * hidden + m) * ffn_hidden + h0);
    fill(dst + m * width, width, seed, id, first, scale);
  }
}

template <typename T>
void fill_w2_shard(T* dst, std::uint64_t seed, std::int64_t expert, std::int64_t hidden,
                   std::int64_t ffn_hidden, std::int64_t h0, std::int64_t h1) {
  if (h0 < 0 || h1 < h0 || h1 > ffn_hidden) throw std::invalid_argument("fill_w2_shard: bad range");
  const auto first = static_cast<std::uint64_t>((expert * ffn_hidden + h0) * hidden);
  fill(dst, (h1 - h0) * hidden, seed, TensorId::W2, first, tensor_scale(TensorId::W2, hidden, ffn_hidden));
}

#define PARM_INSTANTIATE_TENSOR_INIT(T)                                                                     \
  template void fill<T>(T*, std::int64_t, std::uint64_t, TensorId, std::uint64_t, double);                  \
  template void fill_in_projection_shard<T>(T*, std::uint64_t, TensorId, std::int64_t, std::int64_t,        \
                                            std::int64_t, std::int64_t, std::int64_t);                      \
  template void fill_w2_shard<T>(T*, std::uint64_t, std::int64_t, std::int64_t, std::int64_t, std::int64_t, \
                                 std::int64_t);

PARM_INSTANTIATE_TENSOR_INIT(float)
PARM_INSTANTIATE_TENSOR_INIT(double)
PARM_INSTANTIATE_TENSOR_INIT(Bf16)
PARM_INSTANTIATE_TENSOR_INIT(F16)
#undef PARM_INSTANTIATE_TENSOR_INIT

}  // namespace parm
