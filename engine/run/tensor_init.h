// Counter-based tensor values (spec section 8): element i of tensor `id` is a pure function of (seed, id, i),
// so any rank can generate exactly its shard and the single-process reference rebuilds the same global
// tensors.
//
// Global layouts (row-major) and scales, for a layer with hidden M, FFN hidden H, E experts and `groups` MP
// groups of S tokens each:
//   Input       (groups, S, M)  scale 1           each MP group holds its own S tokens
//   OutputGrad  (groups, S, M)  scale 1           dL/dout; the loss is L = sum(out * dout)
//   GateWeight  (M, E)          scale 1/sqrt(M)
//   W1, W3      (E, M, H)       scale 1/sqrt(M)   W3 only with SwiGLU
//   B1, B3      (E, H)          scale 0.1
//   W2          (E, H, M)       scale 1/sqrt(H)
//   B2          (E, M)          scale 0.1
// Values are scale * u with u uniform in [-1, 1). T is float, double, Bf16 or F16; the 16-bit types hold the
// fp32 value rounded to nearest even (engine/backend/element_type.h), so a bf16 run's tensors are the rounded
// tensors of the fp32 run.
#pragma once

#include <cstdint>

namespace parm {

enum class TensorId : std::uint32_t {
  Input = 1,
  OutputGrad,
  GateWeight,
  W1,
  B1,
  W3,
  B3,
  W2,
  B2,
  ModelTokens = 32,  // a whole model's input token ids (groups, S) and targets (issue 18)
  ModelTargets,
  ModelParameters = 64,  // + (block + 1) * 32 + ModelTensor: the dense parameters of model_parameters.h
};

// The id of a whole model's dense parameter `tensor` (a ModelTensor) of `block` (-1: embedding and head).
inline TensorId model_tensor_id(int tensor, std::int64_t block) {
  return static_cast<TensorId>(static_cast<std::uint32_t>(TensorId::ModelParameters) +
                               static_cast<std::uint32_t>((block + 1) * 32 + tensor));
}

// Uniform in [-1, 1) from a 64-bit hash of (seed, id, global_index): no sequential stream, no shared state.
double counter_uniform(std::uint64_t seed, TensorId id, std::uint64_t global_index);

// The scale of the table above.
double tensor_scale(TensorId id, std::int64_t hidden, std::int64_t ffn_hidden);

// dst[i] = scale * counter_uniform(seed, id, first_global_index + i) for i < count.
template <typename T>
void fill(T* dst, std::int64_t count, std::uint64_t seed, TensorId id, std::uint64_t first_global_index,
          double scale);

// Columns [h0, h1) of expert e's first projection (id W1 or W3, global (E, M, H)) into dst (M, h1 - h0):
// the H-shard an expert-sharding rank holds, read at its GLOBAL indices.
template <typename T>
void fill_in_projection_shard(T* dst, std::uint64_t seed, TensorId id, std::int64_t expert,
                              std::int64_t hidden, std::int64_t ffn_hidden, std::int64_t h0, std::int64_t h1);

// Rows [h0, h1) of expert e's W2 (global (E, H, M)) into dst (h1 - h0, M); contiguous in the global layout.
template <typename T>
void fill_w2_shard(T* dst, std::uint64_t seed, std::int64_t expert, std::int64_t hidden,
                   std::int64_t ffn_hidden, std::int64_t h0, std::int64_t h1);

}  // namespace parm
