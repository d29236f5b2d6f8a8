// All local experts' rows packed in one transform: (outer, experts, c, M) -> (experts, outer*c, M) and back.
// Expert e's block of the packed tensor is exactly what layout::pack_expert(outer, experts, e, c, M) would
// write (tests/kernels/test_kernels_cuda_expert_pack.cpp checks it), done in one launch instead of one per
// expert: the pack is GroupCapacity with n = experts, row blocks = outer, the unpack InterleaveCapacity.
#pragma once

#include <cstdint>

#include "kernels/layout_index.h"

namespace parm::kernels::cuda {

// dst block (e*outer + o) <- src block (o*experts + e), blocks of c*M elements.
inline parm::layout::BlockCopy pack_all_experts(std::int64_t outer, std::int64_t experts, std::int64_t c,
                                                std::int64_t m) {
  return {parm::layout::Transform::GroupCapacity, experts * outer, c * m, experts, outer};
}

// dst block (o*experts + e) <- src block (e*outer + o).
inline parm::layout::BlockCopy unpack_all_experts(std::int64_t outer, std::int64_t experts, std::int64_t c,
                                                  std::int64_t m) {
  return {parm::layout::Transform::InterleaveCapacity, experts * outer, c * m, experts, outer};
}

}  // namespace parm::kernels::cuda
