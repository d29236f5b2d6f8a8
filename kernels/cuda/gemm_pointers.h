// Fills the device pointer arrays of a grouped GEMM call on the stream, from each set's base pointers and
// strides: no host array and no host-to-device copy per call (the pointers are affine in the product index).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace parm::kernels::cuda {

struct GemmPointerPlan {
  static constexpr int kMaxSets = 4;
  int sets = 0;
  std::int64_t count[kMaxSets] = {};
  // Per set, for the three operands in the order the cuBLAS call takes them.
  const char* base[kMaxSets][3] = {};
  std::int64_t stride_bytes[kMaxSets][3] = {};
};

// pointers[o * capacity + i] = base[set(i)][o] + (i - first(set(i))) * stride_bytes[set(i)][o] for the
// three operands o and every product i (numbered set after set).
void fill_gemm_pointers(cudaStream_t stream, const GemmPointerPlan& plan, void** pointers,
                        std::int64_t capacity);

}  // namespace parm::kernels::cuda
