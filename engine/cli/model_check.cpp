#include "engine/cli/model_check.h"

#include <cstdio>
#include <string>

#include "engine/core/validation.h"

namespace parm::cli {
namespace {

// "2, 4, 6" for the blocks (counted from 1) whose FFN is the MoE layer.
std::string moe_block_list(const ModelConfig& m) {
  std::string out;
  for (std::int64_t i = 0; i < m.layers; ++i)
    if (m.moe_block(i)) out += (out.empty() ? "" : ", ") + std::to_string(i + 1);
  return out;
}

}  // namespace

void print_model_text(const Config& c, const ModelSizes& s) {
  const ModelConfig& m = *c.model;
  const ModelParameters& p = s.parameters;
  const ModelRankMemory& r = s.rank;
  std::printf(
      "\n# model (%s style): %lld blocks, the MoE layer in %lld (blocks %s), %lld heads, vocabulary %lld "
      "(padded to %lld: a multiple of %lld x N_MP)\n",
      std::string(to_string(m.style)).c_str(), (long long)m.layers, (long long)s.moe_blocks,
      moe_block_list(m).c_str(), (long long)m.heads, (long long)m.vocab, (long long)s.padded_vocab,
      (long long)kVocabPaddingMultiple);
  std::printf("  %-10s %14lld  parameters (experts %lld; the same model with dense FFNs: %lld)\n", "params",
              (long long)p.total, (long long)p.expert, (long long)p.dense_equivalent);
  std::printf("  %-10s %14lld  parameters on one rank (1/N_MP of the split weights, its expert shards)\n",
              "rank", (long long)r.parameters);
  std::printf(
      "  %-10s %14lld  bytes to train on one rank: weights %s, gradients %s, Adam states %s, "
      "activations %s, logits %s\n",
      "train", (long long)r.total, gib(r.weights).c_str(), gib(r.gradients).c_str(), gib(r.optimizer).c_str(),
      gib(r.activations).c_str(), gib(r.logits).c_str());
}

nlohmann::json model_json(const Config& c, const ModelSizes& s) {
  const ModelParameters& p = s.parameters;
  const ModelRankMemory& r = s.rank;
  return {{"style", to_string(c.model->style)},
          {"blocks", c.model->layers},
          {"moe_blocks", s.moe_blocks},
          {"dense_blocks", s.dense_blocks},
          {"padded_vocab", s.padded_vocab},
          {"parameters",
           {{"total", p.total},
            {"expert", p.expert},
            {"dense_equivalent", p.dense_equivalent},
            {"embedding", p.embedding},
            {"attention_per_block", p.attention},
            {"norms_per_block", p.norms},
            {"dense_ffn_per_block", p.dense_ffn},
            {"moe_ffn_per_block", p.moe_ffn},
            {"head", p.head}}},
          {"rank",
           {{"parameters", r.parameters},
            {"weights_bytes", r.weights},
            {"gradients_bytes", r.gradients},
            {"optimizer_bytes", r.optimizer},
            {"activations_bytes", r.activations},
            {"logits_bytes", r.logits},
            {"total_bytes", r.total}}}};
}

}  // namespace parm::cli
