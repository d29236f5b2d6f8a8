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

// cublasGemmGroupedBatchedEx is in cuBLAS 12.5 and later; with an older one every call runs the loop.
inline constexpr bool kGroupedGemmAvailable = CUBLAS_VERSION >= 120500;

// Whether the grouped call takes these sets: every base pointer, leading dimension and stride a multiple of
// 16 bytes (what cublasGemmGroupedBatchedEx asks of 16-bit data; asked of every type here, to be safe).
bool grouped_gemm_aligned(ElementType type, std::span<const StridedGemmSet> sets);

// The path asked for, except that sets the grouped call does not take run as the loop (cublasGemmEx takes
// any alignment).
inline void expert_gemm(ExpertGemmPath path, cublasHandle_t handle, cudaStream_t stream, ElementType type,
                        std::span<const StridedGemmSet> sets, const GemmPointerSpace& space) {
  if (path == ExpertGemmPath::Grouped && grouped_gemm_aligned(type, sets))
    grouped_gemm(handle, stream, type, sets, space);
  else
    looped_gemm(handle, stream, type, sets);
}

}  // namespace parm::kernels::cuda
