// Capacity slots in the spec's choice-major order (kernels/cpu/routing.cpp: all first choices in token
// order, then all second choices, ...), as the pieces of a sort-based parallel algorithm:
//   1. choice-major index cm = j*T + t  <->  token-major index c = t*k + j (where the routing stores choice j
//      of token t);
//   2. a STABLE sort of the choice-major sequence by expert (CUB's radix sort on a device) puts expert e's
//      choices in choice-major order at sorted indices [offset(e), offset(e) + load(e));
//   3. offset = exclusive scan of the expert histogram; a choice's slot is its rank in its expert, sorted
//      index - offset(expert), dropped (-1) when >= capacity.
// Integers only, so every backend computes the same slots.
#pragma once

#include <cstdint>

#include "kernels/hd.h"

namespace parm::kernels::shared {

// Choice-major index cm = j*T + t of token-major choice c = t*k + j, and back.
PARM_HD inline std::int64_t choice_major_index(std::int64_t token_major, std::int64_t tokens,
                                               std::int64_t top_k) {
  return (token_major % top_k) * tokens + token_major / top_k;
}
PARM_HD inline std::int64_t token_major_index(std::int64_t choice_major, std::int64_t tokens,
                                              std::int64_t top_k) {
  return (choice_major % tokens) * top_k + choice_major / tokens;
}

// The slot of the choice at `sorted_index` of the stable expert sort, whose expert's choices start at
// `expert_offset` there; -1 when the rank is beyond the capacity (the choice is dropped).
PARM_HD inline std::int64_t slot_of_sorted(std::int64_t sorted_index, std::int64_t expert_offset,
                                           std::int64_t capacity) {
  const std::int64_t rank = sorted_index - expert_offset;
  return rank < capacity ? rank : -1;
}

// Row of a kept choice in the dispatched (E, C, M) tensor, -1 for a dropped one.
PARM_HD inline std::int64_t slot_row(std::int32_t expert, std::int64_t position, std::int64_t capacity) {
  return position < 0 ? -1 : static_cast<std::int64_t>(expert) * capacity + position;
}

}  // namespace parm::kernels::shared
