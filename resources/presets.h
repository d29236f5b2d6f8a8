// Presets compiled into the binaries, so `parm run` works with no file at hand (resources/presets/*.json).
#pragma once

#include <optional>
#include <string_view>
#include <vector>

namespace parm::resources {

std::optional<std::string_view> embedded_preset(std::string_view name);
std::vector<std::string_view> embedded_preset_names();

}  // namespace parm::resources
