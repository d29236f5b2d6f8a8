#include <iostream>

#include "engine/cli/cli_support.h"
#include "engine/cli/commands.h"
#include "engine/core/config_json.h"

namespace parm::cli {

Config load_config_or_exit(const std::string& path) {
  std::string source;
  ConfigLoad load = load_unvalidated(path, source);
  for (const auto& issue : load.issues.items) std::cerr << source << ": " << issue.line() << '\n';
  if (!load.ok()) throw CLI::RuntimeError(2);
  return *load.config;
}

}  // namespace parm::cli
