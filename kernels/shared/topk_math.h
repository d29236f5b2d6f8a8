// The k best experts of one row of probabilities, best first, in kernels/cpu's total order: probability
// descending, ties to the lower expert index. Selection without scratch memory: choice j is the best expert
// strictly after choice j-1 in that order, so a device thread needs no per-row array.
#pragma once

#include <cstdint>

#include "kernels/hd.h"

namespace parm::kernels::shared {

// True when expert a comes before expert b: higher probability, or equal probability and lower index.
template <typename S>
PARM_HD bool ranks_before(const S* p, std::int32_t a, std::int32_t b) {
  return p[a] > p[b] || (p[a] == p[b] && a < b);
}

// The best expert that comes strictly after `previous` (-1: the best of all). Needs previous to have a
// successor, which holds for the first E choices.
template <typename S>
PARM_HD std::int32_t next_choice(const S* p, std::int64_t experts, std::int32_t previous) {
  std::int32_t best = -1;
  for (std::int32_t e = 0; e < static_cast<std::int32_t>(experts); ++e) {
    if (previous >= 0 && !ranks_before(p, previous, e)) continue;
    if (best < 0 || ranks_before(p, e, best)) best = e;
  }
  return best;
}

// choices[0, k) of one row; 1 <= k <= experts.
template <typename S>
PARM_HD void top_k_row(const S* p, std::int64_t experts, std::int64_t top_k, std::int32_t* choices) {
  std::int32_t previous = -1;
  for (std::int64_t j = 0; j < top_k; ++j) {
    previous = next_choice(p, experts, previous);
    choices[j] = previous;
  }
}

}  // namespace parm::kernels::shared
