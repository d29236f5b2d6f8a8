// Combine weights of one token's k choices and their backward, in the operation order of
// kernels/cpu/routing.cpp (bit-identical on the host). S is the math type; probs is the token's row (E).
//   k == 1: the chosen expert's probability (renormalising one choice would make it 1 and cut the gradient);
//   k >= 2: the kept choices' probabilities renormalised to sum 1; dropped choices weigh 0.
#pragma once

#include <cstdint>

#include "kernels/hd.h"

namespace parm::kernels::shared {

// weights[0, k) from the token's choices (expert[j], position[j] < 0 when dropped).
template <typename S>
PARM_HD void combine_weights_row(const S* probs, const std::int32_t* expert, const std::int64_t* position,
                                 std::int64_t top_k, S* weights) {
  S kept_sum = 0;
  for (std::int64_t j = 0; j < top_k; ++j) {
    weights[j] = position[j] >= 0 ? probs[expert[j]] : S(0);
    kept_sum += weights[j];
  }
  if (top_k >= 2 && kept_sum > S(0))
    for (std::int64_t j = 0; j < top_k; ++j) weights[j] /= kept_sum;
}

// dprobs row (E) from dweights (k), OVERWRITE: zero except the kept experts.
// k >= 2, Sum = sum of kept probs: dp_i = (dw_i - sum_j dw_j w_j) / Sum.
template <typename S>
PARM_HD void combine_weights_row_backward(const S* probs, const std::int32_t* expert,
                                          const std::int64_t* position, const S* weights, const S* dweights,
                                          std::int64_t top_k, std::int64_t experts, S* dprobs) {
  for (std::int64_t e = 0; e < experts; ++e) dprobs[e] = S(0);
  if (top_k == 1) {
    if (position[0] >= 0) dprobs[expert[0]] = dweights[0];
    return;
  }
  S kept_sum = 0;
  S dw_dot_w = 0;
  for (std::int64_t j = 0; j < top_k; ++j) {
    if (position[j] < 0) continue;
    kept_sum += probs[expert[j]];
    dw_dot_w += dweights[j] * weights[j];
  }
  if (kept_sum <= S(0)) return;
  for (std::int64_t j = 0; j < top_k; ++j)
    if (position[j] >= 0) dprobs[expert[j]] = (dweights[j] - dw_dot_w) / kept_sum;
}

}  // namespace parm::kernels::shared
