// JSON form of a Config (nlohmann-json). Reading reports every malformed, mistyped or unknown field at once,
// then runs validate(); a missing field keeps its default.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "engine/core/config.h"
#include "engine/core/config_issue.h"

namespace parm {

struct ConfigLoad {
  std::optional<Config> config;  // set when the text parsed and every field had the right type
  ConfigIssues issues;           // parse/type errors, then validation errors and warnings

  bool ok() const { return config.has_value() && !issues.has_errors(); }
};

ConfigLoad config_from_json_text(std::string_view text);
ConfigLoad load_config_file(const std::string& path);

nlohmann::json config_to_json(const Config& config);
// Writes atomically (temporary file + rename) so a failed save never truncates an existing config.
void save_config_file(const Config& config, const std::string& path);

}  // namespace parm
