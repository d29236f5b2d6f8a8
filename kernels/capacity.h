// Expert capacity rule of spec section 2, shared by every backend and by the size calculator.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace parm {

// How ceil(S/E * f * k) is evaluated. Exact: in double, the spec's rule. DeepSpeed: as DeepSpeed's
// sharded_moe._capacity does it, in float32 tensors (S=50, E=8, f=1.2, k=2: exact 15, DeepSpeed 16).
// Configuration vocabulary (layer.capacity_rounding), so it lives in parm::, not with the kernels.
enum class CapacityRounding { Exact, DeepSpeed };

}  // namespace parm

namespace parm::kernels {

// The value the capacity rule rounds up, before ceil and min_capacity. DeepSpeed builds
// torch.tensor(capacity_factor * k) (Python double product, stored as float32), multiplies it by the Python
// double num_tokens / num_experts (a wrapped scalar, cast to float32) in float32, then ceils.
inline double capacity_rule_value(std::int64_t tokens, std::int64_t experts, double capacity_factor,
                                  std::int64_t top_k, CapacityRounding rounding = CapacityRounding::Exact) {
  const double per_expert = static_cast<double>(tokens) / static_cast<double>(experts);
  if (rounding == CapacityRounding::DeepSpeed) {
    const float factor = static_cast<float>(capacity_factor * static_cast<double>(top_k));
    const float product = static_cast<float>(per_expert) * factor;
    return static_cast<double>(product);
  }
  return per_expert * capacity_factor * static_cast<double>(top_k);
}

// C = max(min_capacity, ceil((T / E) * f * k)), exact: evaluated in double in exactly that order
// (T=4096, E=8, k=2, f=1.2 gives 1228.8 -> 1229).
inline std::int64_t expert_capacity(std::int64_t tokens, std::int64_t experts, double capacity_factor,
                                    std::int64_t top_k, std::int64_t min_capacity,
                                    CapacityRounding rounding = CapacityRounding::Exact) {
  const double c = capacity_rule_value(tokens, experts, capacity_factor, top_k, rounding);
  return std::max<std::int64_t>(min_capacity, static_cast<std::int64_t>(std::ceil(c)));
}

inline std::int64_t round_up(std::int64_t value, std::int64_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

}  // namespace parm::kernels
