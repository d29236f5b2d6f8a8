// One element of a layout transform (kernels/layout_index.h): a CUDA kernel maps output element k of a
// BlockCopy to block k / length, offset k % length; the cpu backend copies whole blocks with std::copy_n.
#pragma once

#include <cstdint>

#include "kernels/hd.h"
#include "kernels/layout_index.h"

namespace parm::kernels::shared {

struct ElementCopy {
  std::int64_t src = 0, dst = 0;
};

// Source and destination index of element k in [0, map.elements()).
PARM_HD inline ElementCopy block_copy_element(const layout::BlockCopy& map, std::int64_t k) {
  const std::int64_t block = k / map.length, offset = k % map.length;
  return {map.src_offset(block) + offset, map.dst_offset(block) + offset};
}

}  // namespace parm::kernels::shared
