#include "engine/cli/config_loading.h"

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>

#include "engine/backend/backend_availability.h"
#include "resources/presets.h"

namespace parm::cli {

ConfigLoad load_unvalidated(const std::string& path, std::string& source) {
  source = path;
  if (path.empty()) {
    source = "embedded preset 'default'";
    return config_from_json_text(*resources::embedded_preset("default"));
  }
  if (auto preset = resources::embedded_preset(path); preset && !std::filesystem::exists(path)) {
    source = "embedded preset '" + path + "'";  // `parm check tc1` names a built-in preset
    return config_from_json_text(*preset);
  }
  return load_config_file(path);
}

Config load_unvalidated_or_exit(const std::string& path, std::string& source) {
  ConfigLoad load = load_unvalidated(path, source);
  if (!load.config) {
    for (const auto& issue : load.issues.items) std::cerr << source << ": " << issue.line() << '\n';
    throw CLI::RuntimeError(2);
  }
  return *load.config;
}

void validate_or_exit(const Config& config, const std::string& source, const MachineLimits& machine) {
  const ConfigIssues issues = validate(config, machine);
  for (const auto& issue : issues.items) std::cerr << source << ": " << issue.line() << '\n';
  if (issues.has_errors()) throw CLI::RuntimeError(2);
}

Config load_config_or_exit(const std::string& path) {
  std::string source;
  ConfigLoad load = load_unvalidated(path, source);
  for (const auto& issue : load.issues.items) std::cerr << source << ": " << issue.line() << '\n';
  if (!load.ok()) throw CLI::RuntimeError(2);
  return *load.config;
}

std::vector<std::string> load_rank_config(const std::string& path, int world, const MachineLimits& machine,
                                          const RankConfigAdjust& adjust, Config& config) {
  std::vector<std::string> problems;
  ConfigLoad load = load_config_file(path);
  if (!load.config) {
    for (const auto& issue : load.issues.errors()) problems.push_back(path + ": " + issue.line());
    if (problems.empty()) problems.push_back(path + ": unreadable");
    return problems;
  }
  config = *load.config;
  if (adjust) adjust(config, problems);
  for (const auto& issue : validate(config, machine).errors()) problems.push_back(path + ": " + issue.line());
  if (const auto why = backend_unavailable(config.run.backend)) problems.push_back(*why);
  if (config.parallel.ranks != world)
    problems.push_back(path + ": error: parallel.ranks = " + std::to_string(config.parallel.ranks) +
                       ": must equal the MPI world size (" + std::to_string(world) + ")");
  return problems;
}

void note_model_layer(const Config& config, const std::string& command) {
  if (!config.model) return;
  std::cerr
      << command << ": " << config.name << " is a " << to_string(config.model->style) << "-style model of "
      << config.model->layers << " blocks (" << config.model->moe_blocks()
      << " with the MoE layer); this measures that MoE layer, the `layer` section, under each schedule\n";
}

}  // namespace parm::cli
