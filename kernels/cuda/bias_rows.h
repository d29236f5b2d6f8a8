// A per-expert bias over rows, both directions: the forward broadcast (out[e, r, :] = bias[e, :], so a GEMM
// with beta = 1 adds the bias with a single rounding) and its adjoint, the bias gradient (db[e, :] = sum over
// r of g[e, r, :]), deterministic (a fixed reduction order, no atomics), accumulated in fp32 (fp64 for fp64).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/cuda/element_type.h"

namespace parm::kernels::cuda {

void broadcast_bias_rows(cudaStream_t stream, ElementType type, std::int64_t experts, std::int64_t rows,
                         std::int64_t cols, const void* bias, void* out);

// db (experts, cols) OVERWRITE from g (experts, rows, cols); rows = 0 writes zeros.
void bias_gradient(cudaStream_t stream, ElementType type, std::int64_t experts, std::int64_t rows,
                   std::int64_t cols, const void* g, void* db);

}  // namespace parm::kernels::cuda
