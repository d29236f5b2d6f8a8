// Expert capacity rule of spec section 2, shared by every backend and by the size calculator.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace parm::kernels {

// C = max(min_capacity, ceil((T / E) * f * k)), evaluated in double in exactly that order
// (T=4096, E=8, k=2, f=1.2 gives 1228.8 -> 1229).
inline std::int64_t expert_capacity(std::int64_t tokens, std::int64_t experts, double capacity_factor,
                                    std::int64_t top_k, std::int64_t min_capacity) {
  const double c = (static_cast<double>(tokens) / static_cast<double>(experts)) * capacity_factor *
                   static_cast<double>(top_k);
  return std::max<std::int64_t>(min_capacity, static_cast<std::int64_t>(std::ceil(c)));
}

inline std::int64_t round_up(std::int64_t value, std::int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

}  // namespace parm::kernels
