// Row-major GEMM on cuBLAS, the one place that turns the engine's row-major matrices into cuBLAS's
// column-major calls: C (m,n) = alpha * op(A) (m,k) * op(B) (k,n) + beta * C is the column-major product
// C^T (n,m) = op(B)^T op(A)^T, i.e. cublasGemmEx(transb, transa, n, m, k, B, ldb, A, lda, C, ldc) with the
// same transposition flags (a row-major matrix read column-major is its transpose). Leading dimensions are
// row strides. fp32 compute for float and the 16-bit types (16-bit A/B with fp32 or 16-bit C), fp64 for
// double; alpha and beta are of the compute type. Host code; sets the handle's stream.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <type_traits>

#include "kernels/half_types.h"

namespace parm::kernels::cuda {

enum class Transpose { No, Yes };

template <typename T>
constexpr cudaDataType cuda_data_type() {
  if constexpr (std::is_same_v<T, double>) return CUDA_R_64F;
  if constexpr (std::is_same_v<T, parm::Bf16>) return CUDA_R_16BF;
  if constexpr (std::is_same_v<T, parm::F16>) return CUDA_R_16F;
  return CUDA_R_32F;
}

struct GemmOperand {
  const void* data = nullptr;
  cudaDataType type = CUDA_R_32F;
  std::int64_t ld = 0;  // row stride
};

struct GemmOutput {
  void* data = nullptr;
  cudaDataType type = CUDA_R_32F;
  std::int64_t ld = 0;
};

// alpha/beta point to host values of the compute type (double for CUBLAS_COMPUTE_64F, float otherwise).
void row_major_gemm(cublasHandle_t handle, cudaStream_t stream, Transpose trans_a, Transpose trans_b,
                    std::int64_t m, std::int64_t n, std::int64_t k, const void* alpha, GemmOperand a,
                    GemmOperand b, const void* beta, GemmOutput c, cublasComputeType_t compute);

// Packed operands of one storage type T (A is m x k, or k x m when transposed), C of type C_T:
// c = alpha * op(a) op(b) + beta * c.
template <typename T, typename CT, typename Scalar>
void row_major_gemm_packed(cublasHandle_t handle, cudaStream_t stream, Transpose trans_a, Transpose trans_b,
                           std::int64_t m, std::int64_t n, std::int64_t k, Scalar alpha, const T* a,
                           const T* b, Scalar beta, CT* c) {
  const std::int64_t lda = trans_a == Transpose::No ? k : m;
  const std::int64_t ldb = trans_b == Transpose::No ? n : k;
  const cublasComputeType_t compute =
      std::is_same_v<Scalar, double> ? CUBLAS_COMPUTE_64F : CUBLAS_COMPUTE_32F;
  row_major_gemm(handle, stream, trans_a, trans_b, m, n, k, &alpha, {a, cuda_data_type<T>(), lda},
                 {b, cuda_data_type<T>(), ldb}, &beta, {c, cuda_data_type<CT>(), n}, compute);
}

}  // namespace parm::kernels::cuda
