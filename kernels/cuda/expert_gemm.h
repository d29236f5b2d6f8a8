// The expert FFN's GEMMs: sets of equally shaped row-major products whose operands lie at fixed strides (one
// product per local expert: expert e uses a + e*stride_a, b + e*stride_b, c + e*stride_c), run either as one
// cublasGemmGroupedBatchedEx call (every set a group: one launch for all experts, and for products of
// different shapes that do not depend on each other, e.g. dW2 and dz) or as a loop of cublasGemmEx, one per
// product (each product gets cuBLAS's kernel for its own shape; no pointer arrays).
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <span>

#include "kernels/cuda/expert_gemm_choice.h"
#include "kernels/cuda/gemm.h"
#include "kernels/cuda/gemm_pointers.h"

namespace parm::kernels::cuda {

struct StridedGemmSet {
  RowMajorGemm shape;
  std::int64_t count = 0;  // products in the set
  const void* a = nullptr;
  std::int64_t stride_a = 0;  // elements between consecutive products' A
  const void* b = nullptr;
  std::int64_t stride_b = 0;
  void* c = nullptr;
  std::int64_t stride_c = 0;
  double beta = 0;  // 0: C OVERWRITE, 1: C ACCUMULATE
};

// The grouped call's device pointer arrays (A, B and C of every product), allocated once by the caller:
// 3 * capacity pointers of device memory. The arrays are filled on the stream by a kernel before each call,
// so one space serves one stream at a time.
struct GemmPointerSpace {
  void** pointers = nullptr;
  std::int64_t capacity = 0;  // products per call
};

// At most this many sets per grouped call (the pointer-fill kernel takes them by value).
inline constexpr int kMaxGemmSets = GemmPointerPlan::kMaxSets;

// Products in `sets` (the pointer space a grouped call needs).
std::int64_t product_count(std::span<const StridedGemmSet> sets);

void grouped_gemm(cublasHandle_t handle, cudaStream_t stream, ElementType type,
                  std::span<const StridedGemmSet> sets, const GemmPointerSpace& space);
void looped_gemm(cublasHandle_t handle, cudaStream_t stream, ElementType type,
                 std::span<const StridedGemmSet> sets);

inline void expert_gemm(ExpertGemmPath path, cublasHandle_t handle, cudaStream_t stream, ElementType type,
                        std::span<const StridedGemmSet> sets, const GemmPointerSpace& space) {
  if (path == ExpertGemmPath::Grouped)
    grouped_gemm(handle, stream, type, sets, space);
  else
    looped_gemm(handle, stream, type, sets);
}

}  // namespace parm::kernels::cuda
