// The user's description of one MoE layer, its parallel layout and how to run it (spec parm.md section 1).
// Plain values: validation lives in validation.h, JSON in config_json.h, derived sizes in sizes.h.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/schedules/schedule_kind.h"
#include "kernels/capacity.h"

namespace parm {

enum class Activation { Gelu, Swiglu };
enum class DType { Fp32, Fp64, Bf16, Fp16 };
enum class Backend { Cpu, Cuda, CudaMpi };

struct LayerConfig {
  std::int64_t batch = 4;         // B
  std::int64_t seq_len = 64;      // L
  std::int64_t hidden = 128;      // M
  std::int64_t ffn_hidden = 512;  // H
  std::int64_t num_experts = 8;   // E
  std::int64_t top_k = 2;         // k
  double capacity_factor = 1.2;   // f
  std::int64_t min_capacity = 8;
  CapacityRounding capacity_rounding = CapacityRounding::Exact;  // exact (spec) or as DeepSpeed (float32)
  bool drop_tokens = true;
  Activation activation = Activation::Gelu;
  bool bias = true;
  DType dtype = DType::Fp32;

  // S = B*L: tokens entering the layer per MP group (replicated on its N_MP ranks).
  std::int64_t tokens() const { return batch * seq_len; }

  // The capacity rule for `gated_tokens` tokens gated together, with this layer's rounding; the one place the
  // executor, the reference layer and the size calculator get C from.
  std::int64_t capacity_of(std::int64_t gated_tokens) const {
    return kernels::expert_capacity(gated_tokens, num_experts, capacity_factor, top_k, min_capacity,
                                    capacity_rounding);
  }
};

struct ParallelConfig {
  std::int64_t ranks = 4;          // P
  std::int64_t gpus_per_node = 2;  // G
  std::int64_t mp = 2;             // N_MP
  std::int64_t esp = 2;            // N_ESP, 1 or N_MP

  std::int64_t ep() const { return mp > 0 ? ranks / mp : 0; }  // N_EP = P / N_MP
  std::int64_t mp_groups() const { return ep(); }              // one EP rank per MP group
  std::int64_t nodes() const { return gpus_per_node > 0 ? ranks / gpus_per_node : 0; }
};

struct RunOptions {
  std::vector<ScheduleKind> schedules = all_schedules();  // registry order
  std::int64_t warmup = 2;
  std::int64_t iterations = 5;
  std::uint64_t seed = 1234;
  Backend backend = Backend::Cpu;
};

// The `model` section (issue 18): a whole Transformer around the MoE layer of `layer`. The blocks share the
// layer's batch, sequence length L, hidden size M, FFN size H and dtype; every moe_every-th block's FFN is
// that MoE layer (blocks moe_every, 2*moe_every, ... counted from 1), the others are dense FFNs of the same
// H. BERT style: bidirectional attention, token-type embeddings, an MLM head; GPT style: causal attention, an
// LM head tied to the token embedding. Attention and dense FFNs are split Megatron-style over the MP group.
enum class ModelStyle { Bert, Gpt };

struct ModelConfig {
  ModelStyle style = ModelStyle::Gpt;
  std::int64_t layers = 12;    // Transformer blocks
  std::int64_t heads = 12;     // attention heads, split over the MP group
  std::int64_t vocab = 50257;  // before padding (model_sizes.h pads it as Megatron does)
  std::int64_t moe_every = 1;  // 1: every block's FFN is the MoE layer; 2: every other block's

  // Block i (0-based) has the MoE layer as its FFN.
  bool moe_block(std::int64_t i) const { return moe_every > 0 && (i + 1) % moe_every == 0; }
  std::int64_t moe_blocks() const { return moe_every > 0 ? layers / moe_every : 0; }
};

struct Config {
  std::string name = "default";
  LayerConfig layer;
  ParallelConfig parallel;
  RunOptions run;
  std::optional<ModelConfig> model;  // absent: a lone MoE layer
};

// Bytes per element of the activations and weights moved between ranks (b in the spec).
int bytes_per_element(DType dtype);

std::string_view to_string(Activation a);
std::string_view to_string(DType d);
std::string_view to_string(Backend b);
std::string_view to_string(CapacityRounding r);
std::string_view to_string(ModelStyle s);

std::optional<Activation> parse_activation(std::string_view s);
std::optional<DType> parse_dtype(std::string_view s);
std::optional<Backend> parse_backend(std::string_view s);
std::optional<CapacityRounding> parse_capacity_rounding(std::string_view s);
std::optional<ModelStyle> parse_model_style(std::string_view s);

}  // namespace parm
