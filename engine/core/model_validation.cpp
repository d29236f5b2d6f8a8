#include "engine/core/model_validation.h"

#include <string>

#include "engine/core/model_sizes.h"
#include "engine/core/sizes.h"
#include "engine/core/validation.h"

namespace parm {
namespace {

std::string str(std::int64_t v) {
  return std::to_string(v);
}

void validate_memory(const Config& c, const ModelSizes& m, const MachineLimits& machine,
                     ConfigIssues& issues) {
  const RankMemoryLimit allowed = rank_memory_limit(c, machine);
  if (allowed.bytes <= 0) return;  // unknown: nothing to compare with
  const ModelRankMemory& r = m.rank;
  if (r.total <= allowed.bytes) return;
  const std::int64_t states = r.weights + r.gradients + r.optimizer;
  const std::string need = "one rank of the model needs " + gib(r.total) +
                           " to train (weights, gradients and Adam states " + gib(states) + ", activations " +
                           gib(r.activations) + ", logits " + gib(r.logits) + "), above " + allowed.where;
  if (states >= r.activations && states >= r.logits)
    return issues.error("model.layers", str(c.model->layers), need);
  if (r.logits > r.activations) return issues.error("model.vocab", str(c.model->vocab), need);
  issues.error("layer.batch", str(c.layer.batch), need);
}

}  // namespace

void validate_model(const Config& c, const MachineLimits& machine, ConfigIssues& issues) {
  if (!c.model) return;
  const ModelConfig& m = *c.model;
  const std::int64_t N = c.parallel.mp;
  const std::size_t before = issues.errors().size();
  if (m.layers < 1 || m.layers > 65536)
    issues.error("model.layers", str(m.layers), "must be between 1 and 65536 Transformer blocks");
  if (m.heads < 1) {
    issues.error("model.heads", str(m.heads), "must be a positive integer");
  } else {
    if (c.layer.hidden % m.heads != 0)
      issues.error("model.heads", str(m.heads),
                   "must divide layer.hidden (M = " + str(c.layer.hidden) + ") into equal heads");
    if (N > 0 && m.heads % N != 0)
      issues.error("model.heads", str(m.heads),
                   "must be a multiple of parallel.mp (" + str(N) +
                       "): tensor parallelism gives each MP rank whole heads");
  }
  if (m.vocab < 2 || m.vocab > 2147483647)
    issues.error("model.vocab", str(m.vocab), "must be between 2 and 2147483647 tokens");
  if (m.moe_every < 1 || (m.layers >= 1 && m.moe_every > m.layers))
    issues.error(
        "model.moe_every", str(m.moe_every),
        "must be between 1 and model.layers (" + str(m.layers) + "): at least one block is an MoE layer");
  else if (m.moe_blocks() < m.layers && N > 0 && c.layer.ffn_hidden % N != 0)
    issues.error("layer.ffn_hidden", str(c.layer.ffn_hidden),
                 "must be a multiple of parallel.mp (" + str(N) +
                     ") in a model with dense blocks: their FFN is "
                     "split column-wise over the MP group");
  if (issues.errors().size() != before) return;
  const std::optional<ModelSizes> sizes = derive_model_sizes(c, derive_sizes(c));
  if (!sizes)
    return issues.error("model.layers", str(m.layers),
                        "the model's parameter or memory counts leave the 64-bit range");
  validate_memory(c, *sizes, machine, issues);
}

}  // namespace parm
