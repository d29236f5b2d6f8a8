// Fills the device pointer arrays of a grouped GEMM call on the stream from a GemmPointerPlan
// (gemm_layout.h): no host array and no host-to-device copy per call, since the pointers are affine in the
// product index.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/cuda/gemm_layout.h"

namespace parm::kernels::cuda {

// pointers[o * capacity + i] = plan.pointer(i, o) for the three operands o and every product i.
void fill_gemm_pointers(cudaStream_t stream, const GemmPointerPlan& plan, void** pointers,
                        std::int64_t capacity);

}  // namespace parm::kernels::cuda
