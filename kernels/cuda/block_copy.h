// Any layout transform of kernels/layout_index.h on the device: element k of the output is element
// k % length of block k / length, copied from src_offset(block) to dst_offset(block). Element size is all
// that matters, so one kernel per size serves every type (2: bf16/fp16, 4: fp32, 8: fp64).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "kernels/layout_index.h"

namespace parm::kernels::cuda {

template <std::size_t ElementBytes>
void block_copy(cudaStream_t stream, const void* src, void* dst, const parm::layout::BlockCopy& map);

}  // namespace parm::kernels::cuda
