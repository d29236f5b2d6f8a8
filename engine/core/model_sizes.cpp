#include "engine/core/model_sizes.h"

#include <algorithm>

#include "engine/core/checked_math.h"
#include "engine/core/rank_memory.h"

namespace parm {
namespace {

// An int64 that stays unset once any operation on it overflowed.
struct Count {
  std::optional<std::int64_t> v;
  Count(std::int64_t x = 0) : v(x) {}  // NOLINT: counts start from plain sizes
  explicit Count(std::optional<std::int64_t> x) : v(x) {}
  friend Count operator+(Count a, Count b) {
    return Count(a.v && b.v ? checked_add(*a.v, *b.v) : std::nullopt);
  }
  friend Count operator*(Count a, Count b) {
    return Count(a.v && b.v ? checked_mul(*a.v, *b.v) : std::nullopt);
  }
  friend Count operator/(Count a, std::int64_t d) {
    return Count(a.v ? std::optional(*a.v / d) : std::nullopt);
  }
};

std::int64_t round_up(std::int64_t n, std::int64_t multiple) {
  return (n + multiple - 1) / multiple * multiple;
}

}  // namespace

std::optional<ModelSizes> derive_model_sizes(const Config& c, const DerivedSizes& d) {
  if (!c.model) return std::nullopt;
  const ModelConfig& model = *c.model;
  const LayerConfig& l = c.layer;
  const std::int64_t t = std::max<std::int64_t>(1, c.parallel.mp);
  const Count M = l.hidden, H = l.ffn_hidden, L = l.seq_len, B = l.batch, E = l.num_experts;
  const bool bert = model.style == ModelStyle::Bert;
  const bool swiglu = l.activation == Activation::Swiglu;
  const Count bias = l.bias ? 1 : 0;

  ModelSizes out;
  const std::optional<std::int64_t> padding = checked_mul(kVocabPaddingMultiple, t);
  if (!padding || model.vocab > INT64_MAX - *padding) return std::nullopt;
  out.padded_vocab = round_up(model.vocab, *padding);
  out.moe_blocks = model.moe_blocks();
  out.dense_blocks = model.layers - out.moe_blocks;
  const Count V = out.padded_vocab;

  // One FFN of the layer's shape: input projection(s) M x H (+ bias), output H x M (+ bias).
  const Count projections = swiglu ? 2 : 1;
  const Count ffn = projections * (M * H + bias * H) + H * M + bias * M;
  ModelParameters& p = out.parameters;
  const Count embedding = V * M + L * M + (bert ? Count(2) * M : Count(0));
  const Count attention = Count(4) * M * M + bias * Count(4) * M;
  const Count norms = Count(4) * M;
  const Count moe = M * E + E * ffn;
  const Count head = Count(2) * M + (bert ? M * M + M + Count(2) * M + V : Count(0));
  const Count blocks = Count(model.layers) * (attention + norms);
  const Count total = embedding + blocks + Count(out.dense_blocks) * ffn + Count(out.moe_blocks) * moe + head;
  const Count dense_equivalent = embedding + blocks + Count(model.layers) * ffn + head;
  const Count expert = Count(out.moe_blocks) * E * ffn;
  for (const Count* x :
       {&embedding, &attention, &norms, &ffn, &moe, &head, &total, &dense_equivalent, &expert})
    if (!x->v) return std::nullopt;
  p = {*embedding.v, *attention.v, *norms.v,           *ffn.v, *moe.v, *head.v,
       *total.v,     *expert.v,    *dense_equivalent.v};

  // One rank: 1/t of what tensor parallelism splits, all of what it replicates.
  const std::optional<RankMemory> layer_memory = estimate_rank_memory(c, d);
  if (!layer_memory) return std::nullopt;
  const std::int64_t b = d.bytes_per_element;
  const Count rank_embedding = V * M / t + L * M + (bert ? Count(2) * M : Count(0));
  const Count rank_attention = (Count(3) * M * M + bias * Count(3) * M + M * M) / t + bias * M;
  const Count rank_ffn = (projections * (M * H + bias * H) + H * M) / t + bias * M;
  const Count rank_head = Count(2) * M + (bert ? M * M + M + Count(2) * M + V / t : Count(0));
  const Count rank_moe = Count(layer_memory->weights / b);  // router and the rank's expert shards
  const Count rank_params = rank_embedding + Count(model.layers) * (rank_attention + norms) +
                            Count(out.dense_blocks) * rank_ffn + Count(out.moe_blocks) * rank_moe + rank_head;

  // Saved activations, Korthikanti et al. at 2 bytes per element, scaled to b.
  const Count sbh = L * B * M;
  const Count scores = Count(5) * Count(model.heads) * L * L * B / t;
  const Count attention_part = Count(7) * sbh + Count(8) * sbh / t + scores;  // with both LayerNorms
  const Count dense_mlp = Count(3) * sbh + Count(16) * sbh / t;
  const Count moe_part = Count(layer_memory->total - layer_memory->weights - layer_memory->gradients);
  const Count at_two_bytes =
      Count(out.dense_blocks) * (attention_part + dense_mlp) + Count(out.moe_blocks) * attention_part;
  const Count activations = at_two_bytes * Count(b) / 2 + Count(out.moe_blocks) * moe_part;
  const Count logits = L * B * V / t * Count(4);

  const Count weights = rank_params * Count(b);
  const Count optimizer = rank_params * Count(b < 4 ? 12 : 2 * b);
  const Count rank_total = weights + weights + optimizer + activations + logits;
  for (const Count* x : {&rank_params, &weights, &optimizer, &activations, &logits, &rank_total})
    if (!x->v) return std::nullopt;
  out.rank = {*rank_params.v, *weights.v, *weights.v, *optimizer.v, *activations.v, *logits.v, *rank_total.v};
  return out;
}

}  // namespace parm
