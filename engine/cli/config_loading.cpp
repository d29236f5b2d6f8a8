#include <filesystem>
#include <iostream>

#include "engine/cli/commands.h"
#include "engine/config_json.h"
#include "resources/presets.h"

namespace parm::cli {

Config load_config_or_exit(const std::string& path) {
  ConfigLoad load;
  std::string source = path;
  if (path.empty()) {
    source = "embedded preset 'default'";
    load = config_from_json_text(*resources::embedded_preset("default"));
  } else if (auto preset = resources::embedded_preset(path); preset && !std::filesystem::exists(path)) {
    source = "embedded preset '" + path + "'";  // `parm check tc1` names a built-in preset
    load = config_from_json_text(*preset);
  } else {
    load = load_config_file(path);
  }
  for (const auto& issue : load.issues.items) std::cerr << source << ": " << issue.line() << '\n';
  if (!load.ok()) throw CLI::RuntimeError(2);
  return *load.config;
}

}  // namespace parm::cli
