// The expert FFN's GEMMs: sets of equally shaped row-major products at fixed strides (StridedGemmSet of
// gemm_layout.h, one product per local expert), run either as one cublasGemmGroupedBatchedEx call (every set
// a group: one launch for all experts, and for products of different shapes that do not depend on each
// other, e.g. dW2 and dz) or as a loop of cublasGemmEx, one per product (each product gets cuBLAS's kernel
// for its own shape; no pointer arrays).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <span>

#include "kernels/cuda/expert_gemm_choice.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/gemm_layout.h"

namespace parm::kernels::cuda {

// The grouped call's device pointer arrays (A, B and C of every product), allocated once by the caller:
// 3 * capacity pointers of device memory. The arrays are filled on the stream by a kernel before each call,
// so one space serves one stream at a time.
struct GemmPointerSpace {
  void** pointers = nullptr;
  std::int64_t capacity = 0;  // products per call
};

// cublasGemmGroupedBatchedEx is in cuBLAS 12.5 and later; with an older one every call runs the loop.
inline constexpr bool kGroupedGemmAvailable = CUBLAS_VERSION >= 120500;

// At most GemmPointerPlan::kMaxSets sets per grouped call (the pointer-fill kernel takes them by value).
void grouped_gemm(cublasHandle_t handle, cudaStream_t stream, ElementType type,
                  std::span<const StridedGemmSet> sets, const GemmPointerSpace& space);
void looped_gemm(cublasHandle_t handle, cudaStream_t stream, ElementType type,
                 std::span<const StridedGemmSet> sets);

// The path asked for, except that sets the grouped call does not take (grouped_gemm_aligned) run as the loop:
// cublasGemmEx takes any alignment.
inline void expert_gemm(ExpertGemmPath path, cublasHandle_t handle, cudaStream_t stream, ElementType type,
                        std::span<const StridedGemmSet> sets, const GemmPointerSpace& space) {
  if (path == ExpertGemmPath::Grouped && kGroupedGemmAvailable &&
      grouped_gemm_aligned(sets, element_bytes(type)))
    grouped_gemm(handle, stream, type, sets, space);
  else
    looped_gemm(handle, stream, type, sets);
}

}  // namespace parm::kernels::cuda
