// The rules of the `model` section (issue 18), beside validation.h's rules for the layer: heads that split
// evenly over the hidden size and over the MP group (Megatron's tensor parallelism), a dense FFN that splits
// over the MP group, at least one MoE block, and one rank's training memory (model_sizes.h) within the memory
// a rank may use.
#pragma once

#include "engine/core/config.h"
#include "engine/core/config_issue.h"
#include "engine/core/rank_memory.h"

namespace parm {

// Adds an issue per broken rule; nothing when config.model is absent. Called by validate() once the layer and
// the layout are valid.
void validate_model(const Config& config, const MachineLimits& machine, ConfigIssues& issues);

}  // namespace parm
