// Gate logits given by the user (`parm run --gate-logits FILE`) instead of x*Wg, so a routing can be compared
// with another implementation's on the same logits. The file is numpy's .npy (float32 or float64, C order,
// little-endian) or a JSON nested array; its shape is (groups, S, E) or (S, E), the latter used for every MP
// group.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace parm {

struct GateLogits {
  std::int64_t groups = 0;     // MP groups, each gating its own S tokens
  std::int64_t tokens = 0;     // S
  std::int64_t experts = 0;    // E
  std::vector<double> values;  // (groups, S, E), row-major; a (S, E) file is repeated for every group
  std::string source;          // the file it came from

  // The (S, E) logits of MP group `group`.
  std::vector<double> of_group(std::int64_t group) const {
    const auto n = static_cast<std::ptrdiff_t>(tokens * experts);
    const auto first = values.begin() + group * n;
    return {first, first + n};
  }
};

// One line naming the file and what is wrong with it (shape, format, an unreadable file).
struct GateLogitsError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Reads `path` (.npy by its magic bytes, otherwise JSON) for a layer of `groups` MP groups of `tokens` tokens
// and `experts` experts; a (S, E) file is expanded to every group. Throws GateLogitsError.
GateLogits read_gate_logits(const std::string& path, std::int64_t groups, std::int64_t tokens,
                            std::int64_t experts);

}  // namespace parm
