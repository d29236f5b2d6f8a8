// How every subcommand reads a configuration, in one place. A command reading CONFIG loads it as written,
// applies its command-line overrides, then validates (printing one line per issue, exit 2 on errors). A rank
// process (`parm worker`, `parm calibrate-worker`) reads the file its launcher wrote and turns whatever is
// wrong into lines for agree_or_exit, so every rank agrees before any collective.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "engine/core/config.h"
#include "engine/core/config_json.h"
#include "engine/core/validation.h"

namespace parm::cli {

// The configuration as written (a file, an embedded preset named instead of a file, or the embedded default
// when `path` is empty), not yet validated, so command-line overrides apply first. `source` names it for
// messages.
ConfigLoad load_unvalidated(const std::string& path, std::string& source);

// load_unvalidated; when nothing could be read, prints its issues and throws CLI::RuntimeError(2).
Config load_unvalidated_or_exit(const std::string& path, std::string& source);

// Prints every issue of `config` against `machine` as "source: line"; throws CLI::RuntimeError(2) on errors.
void validate_or_exit(const Config& config, const std::string& source, const MachineLimits& machine);

// A model configuration given to a layer command: one line on stderr saying that the command works on the
// model's MoE layer (the `layer` section), so a whole-model question never silently gets a layer answer.
// Nothing for a lone layer.
void note_model_layer(const Config& config, const std::string& command);

// Loads and validates CONFIG (the embedded default preset when `path` is empty). Prints warnings to stderr;
// on any error prints one line per violated rule to stderr and throws CLI::RuntimeError(2).
Config load_config_or_exit(const std::string& path);

// A rank's configuration: `path` as its launcher wrote it, adjusted by `adjust` (which may add problems),
// validated against `machine`, runnable on the cpu engine, with parallel.ranks equal to the world size.
// Returns the problems (empty: `config` is ready).
using RankConfigAdjust = std::function<void(Config&, std::vector<std::string>& problems)>;
std::vector<std::string> load_rank_config(const std::string& path, int world, const MachineLimits& machine,
                                          const RankConfigAdjust& adjust, Config& config);

}  // namespace parm::cli
