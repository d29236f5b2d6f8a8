// The dense (non-MoE) parameters of a whole model (Config::model) as global tensors, and how Megatron-style
// tensor parallelism splits each over the MP group: the catalogue the distributed model (engine/run) takes
// its slices from and the single-process reference model (engine/reference) holds whole. The MoE blocks'
// router and experts are the layer's own (engine/run/local_weights.h). The architecture is model_sizes.h's:
// pre-LayerNorm blocks (h = x + Attn(LN1(x)), y = h + FFN(LN2(h))), a final LayerNorm, the output
// projection tied to the token embedding; BERT adds token types and the MLM transform (dense, GELU,
// LayerNorm) with a decoder bias. No dropout: runs are deterministic so they can be checked exactly.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/config.h"

namespace parm {

enum class ModelTensor : std::uint8_t {
  TokenEmbedding,     // (V_padded, M), split by vocabulary rows
  PositionEmbedding,  // (L, M)
  TypeEmbedding,      // (2, M), BERT
  Ln1Gamma,
  Ln1Beta,
  QkvWeight,  // (M, 3M): [Q | K | V] columns, head h at columns h*d of each; split by heads
  QkvBias,    // (1, 3M)
  OutWeight,  // (M, M), split by input rows (row-parallel)
  OutBias,    // (1, M), replicated, added once after the MP AllReduce
  Ln2Gamma,
  Ln2Beta,
  Fc1Weight,  // (M, H), split by columns
  Fc1Bias,
  Fc3Weight,  // (M, H), SwiGLU's gate projection
  Fc3Bias,
  Fc2Weight,  // (H, M), split by rows
  Fc2Bias,    // (1, M), replicated
  FinalGamma,
  FinalBeta,
  MlmWeight,  // (M, M), BERT's transform, replicated
  MlmBias,
  MlmGamma,
  MlmBeta,
  DecoderBias,  // (1, V_padded), split by vocabulary
};
inline constexpr int kModelTensorCount = 24;

// How the MP group splits a global (rows, cols) tensor.
enum class TensorSplit {
  Replicated,  // every MP rank holds all of it
  Rows,        // rank j holds rows [j*rows/t, (j+1)*rows/t)
  Columns,     // rank j holds columns [j*cols/t, (j+1)*cols/t)
  QkvColumns,  // rank j holds its heads' columns of each of the three [Q | K | V] thirds
};

struct ParameterSpec {
  ModelTensor tensor{};
  std::int64_t block = -1;  // Transformer block, -1 for the embedding and the head
  std::int64_t rows = 0, cols = 0;
  TensorSplit split = TensorSplit::Replicated;
  double scale = 0;   // values are offset + scale * u, u uniform in [-1, 1)
  double offset = 0;  // 1 for LayerNorm gains

  std::int64_t elements() const { return rows * cols; }
  // "block3.qkv_weight", "token_embedding"
  std::string name() const;
  // The shape one MP rank holds (t = N_MP).
  std::int64_t local_rows(std::int64_t t) const;
  std::int64_t local_cols(std::int64_t t) const;
  std::int64_t local_elements(std::int64_t t) const { return local_rows(t) * local_cols(t); }
  // Global flat index of element (r, c) of MP rank j's slice.
  std::int64_t global_index(std::int64_t j, std::int64_t t, std::int64_t r, std::int64_t c) const;
};

// Every dense parameter in forward order (embeddings, then per block LN1, QKV, output projection, LN2 and a
// dense FFN unless the block is an MoE block, then the head). Requires a validated config with a model.
std::vector<ParameterSpec> model_parameter_specs(const Config& config);

// The padded vocabulary model_sizes.h uses (a multiple of 128 * N_MP).
std::int64_t padded_vocabulary(const Config& config);

// A data-parallel gradient bucket (PyTorch DDP's, DeepSpeed's reduce buckets): consecutive elements of one
// rank's flat dense gradient, which the backward completes in this order, reduced by one AllReduce once the
// backward has passed its last stage.
struct GradientBucket {
  std::int64_t offset = 0, count = 0;  // elements of the flat gradient
  std::int64_t ready_after =
      0;  // backward stage: 0 the head, 1 + (layers-1-b) block b, layers + 1 the embedding
};

// PyTorch DDP's default bucket size.
inline constexpr std::int64_t kDefaultBucketBytes = 25 << 20;

// The backward stage after which a parameter's gradient is complete (the token embedding, tied to the head,
// gets its last part in the embedding's stage).
std::int64_t gradient_ready_stage(const ParameterSpec& spec, std::int64_t layers);

// One rank's (N_MP = t) flat gradient layout: the offset of each spec (in `specs` order) with the specs laid
// out stage by stage, and the buckets of about `bucket_bytes` (elements of `element_bytes`) cut at stage
// ends.
struct GradientLayout {
  std::vector<std::int64_t> offset;
  std::int64_t elements = 0;
  std::vector<GradientBucket> buckets;
};
GradientLayout plan_gradient_buckets(const std::vector<ParameterSpec>& specs, std::int64_t layers,
                                     std::int64_t t, std::int64_t element_bytes, std::int64_t bucket_bytes);

// Index of spec (tensor, block) in `specs`, -1 when the model has none.
int find_parameter(const std::vector<ParameterSpec>& specs, ModelTensor tensor, std::int64_t block = -1);

}  // namespace parm
