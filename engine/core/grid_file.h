// A grid of layer configurations (`parm sweep --grid`, `parm validate GRID`): a base configuration and axes,
// each a list of values for one layer field; the grid is every combination (the cartesian product). Read
// through engine/json_input.h, so hostile text gets one line per problem; every axis value is checked against
// its field (an integer where the field is one, finite, in range) before anything converts it. Configurations
// are made one at a time from their index, so a grid of 10^9 combinations costs no memory.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/config.h"

namespace parm {

struct Grid {
  std::string name;
  Config base;
  std::vector<std::pair<std::string, std::vector<double>>> axes;  // by name (the order rows are numbered in)
};

struct GridLoad {
  std::optional<Grid> grid;         // set only when there is no error
  std::vector<std::string> errors;  // one line each, "SOURCE: FIELD: RULE"

  bool ok() const { return grid.has_value() && errors.empty(); }
};

// The axes a grid may have: the layer fields batch, seq_len, hidden, ffn_hidden, num_experts, top_k,
// capacity_factor, and ffn_ratio (ffn_hidden = ratio x hidden, applied after the other axes).
const std::vector<std::string>& grid_axis_names();

// `source` names the document in messages (a path, "grid").
GridLoad grid_from_json_text(std::string_view text, std::string_view source);
GridLoad load_grid_file(const std::string& path);

// Whether `path` reads as a grid document (an object with "base" and "axes"); false for anything else,
// including files that cannot be read.
bool is_grid_file(const std::string& path);

// The number of configurations (the product of the axis lengths), or nullopt when it does not fit 64 bits.
std::optional<std::uint64_t> grid_configuration_count(const Grid& grid);

// Configuration `index` (0 <= index < count) of the grid, not validated: the last axis varies fastest.
Config grid_configuration(const Grid& grid, std::uint64_t index);

}  // namespace parm
