// What a whole model (Config::model) holds: its parameters, and one rank's memory during a training step.
// Conventions, as Megatron-LM and DeepSpeed count them:
// - the vocabulary is padded up to a multiple of 128 * N_MP (Megatron's --make-vocab-size-divisible-by 128),
//   so the vocabulary-parallel embedding splits evenly over the MP group;
// - per block: attention QKV (M x 3M + 3M) and output projection (M x M + M), two LayerNorms (4M), and either
//   a dense FFN (M x H + H + H x M + M; SwiGLU: two input projections) or the MoE layer (the router M x E and
//   E experts of that FFN);
// - embeddings: tokens (V_padded x M), positions (L x M), BERT's two token types (2 x M); the head: a final
//   LayerNorm (2M), for BERT also the MLM transform (M x M + M, LayerNorm 2M) and the decoder bias
//   (V_padded); the output projection is tied to the token embedding (counted once);
// - one rank holds 1/N_MP of the embedding, attention, dense FFN and decoder bias (column/row-parallel; the
//   row-parallel biases and every LayerNorm replicated), and of each MoE layer what the layer's schedules
//   hold (estimate_rank_memory: the router and the rank's expert shards);
// - training memory per rank: weights and gradients in layer.dtype, Adam states of 12 bytes per parameter for
//   16-bit dtypes (fp32 master copy, momentum, variance) and 2 x b bytes otherwise; activations saved for the
//   backward by Korthikanti et al. 2022 (tensor parallel t = N_MP, no sequence parallelism, per block at
//   2 bytes: s*b*M*(10 + 24/t) + 5*heads*s^2*b/t, scaled by b/2), an MoE block's FFN part replaced by the MoE
//   layer's own buffers (estimate_rank_memory); the fp32 logits of the vocabulary-parallel loss
//   (s*b*V_padded/t * 4). A floor: fragmentation, communication buckets and the framework come on top.
#pragma once

#include <cstdint>
#include <optional>

#include "engine/core/config.h"
#include "engine/core/sizes.h"

namespace parm {

inline constexpr std::int64_t kVocabPaddingMultiple = 128;

struct ModelParameters {       // element counts of the whole model
  std::int64_t embedding = 0;  // tokens (padded) + positions (+ BERT's token types)
  std::int64_t attention = 0;  // one block's QKV and output projection, with biases
  std::int64_t norms = 0;      // one block's two LayerNorms
  std::int64_t dense_ffn = 0;  // one dense block's FFN
  std::int64_t moe_ffn = 0;    // one MoE block's router and E experts
  std::int64_t head = 0;       // final LayerNorm (+ BERT's MLM transform and decoder bias)
  std::int64_t total = 0;
  std::int64_t expert = 0;            // of total: in the MoE layers' experts
  std::int64_t dense_equivalent = 0;  // the same model with every FFN dense (GPT-2 small: 124,439,808)
};

struct ModelRankMemory {        // bytes of one rank
  std::int64_t parameters = 0;  // elements this rank holds (not bytes)
  std::int64_t weights = 0;
  std::int64_t gradients = 0;
  std::int64_t optimizer = 0;
  std::int64_t activations = 0;  // every block's saved activations (MoE blocks: the layer's buffers)
  std::int64_t logits = 0;
  std::int64_t total = 0;
};

struct ModelSizes {
  std::int64_t padded_vocab = 0;
  std::int64_t moe_blocks = 0;
  std::int64_t dense_blocks = 0;
  ModelParameters parameters;
  ModelRankMemory rank;
};

// nullopt when a count leaves the 64-bit range (validation refuses such a model first). `config.model` must
// be set and the layer's sizes valid.
std::optional<ModelSizes> derive_model_sizes(const Config& config, const DerivedSizes& sizes);

}  // namespace parm
