// A whole model's generated tensors (issue 18): its dense parameters (model_parameters.h), whole or as MP
// rank j's slice, read at GLOBAL indices from the counter-based generator (tensor_init.h) so every layout
// holds slices of the one model the reference runs; the token ids and targets of each MP group's batch; and
// the seed each MoE block's layer is generated from.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/core/config.h"
#include "engine/core/model_parameters.h"

namespace parm {

// MP rank j of t's slice of `spec` (local_rows x local_cols); t = 1 gives the whole tensor.
template <typename T>
std::vector<T> make_parameter(const ParameterSpec& spec, std::uint64_t seed, std::int64_t j = 0,
                              std::int64_t t = 1);

// Token ids (groups, S) in [0, vocab): group g's B sequences of L tokens.
std::vector<std::int64_t> make_model_tokens(const Config& config, std::int64_t groups, std::uint64_t seed);
// The targets the loss predicts, (groups, S) in [0, vocab). They are generated like the tokens (the values
// do not change what a step computes or costs).
std::vector<std::int64_t> make_model_targets(const Config& config, std::int64_t groups, std::uint64_t seed);

// Position ids (S): token r of a group sits at position r mod L. BERT's token types: the first half of each
// sequence is type 0, the second type 1 (a sentence pair).
std::vector<std::int64_t> make_position_ids(const LayerConfig& layer);
std::vector<std::int64_t> make_type_ids(const LayerConfig& layer);

// The seed MoE block `block`'s layer (router and experts, local_weights.h) is generated from: every MoE
// block has its own experts.
std::uint64_t moe_block_seed(std::uint64_t seed, std::int64_t block);

}  // namespace parm
