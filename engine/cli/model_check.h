// `parm check` of a configuration with a `model` section: its blocks, its parameters (with the dense model it
// grows from) and one rank's training memory (engine/core/model_sizes.h), as text and as `--json`'s "model".
#pragma once

#include <nlohmann/json.hpp>

#include "engine/core/config.h"
#include "engine/core/model_sizes.h"

namespace parm::cli {

void print_model_text(const Config& config, const ModelSizes& model);
nlohmann::json model_json(const Config& config, const ModelSizes& model);

}  // namespace parm::cli
