// Row-major GEMM on cuBLAS, for the expert FFN and the calibration's "gemm" fit.
//
// cuBLAS is column-major. A row-major matrix X (r x c, row stride ld) is, read column-major, X^T (c x r,
// leading dimension ld). So the row-major C(m,n) = op(A)(m,k) op(B)(k,n) is the column-major
// C^T(n,m) = op(B)^T op(A)^T: one cuBLAS call with the operands swapped (B first), m and n swapped, and each
// operand keeping its own transpose flag. The backward's products are the transposed variants:
// dW = X^T dY is {Op::T, Op::N}, dX = dY W^T is {Op::N, Op::T}.
//
// fp32 and the 16-bit types compute in fp32 (CUBLAS_COMPUTE_32F: 16-bit inputs and outputs, fp32
// accumulation, no TF32), fp64 in fp64.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/cuda/element_type.h"

namespace parm::kernels::cuda {

enum class Op { N, T };

// C(m,n) = alpha op(A)(m,k) op(B)(k,n) + beta C, row-major, lda/ldb/ldc the row strides of the stored
// matrices (A is stored m x k, or k x m when transposed).
struct RowMajorGemm {
  Op op_a = Op::N, op_b = Op::N;
  std::int64_t m = 0, n = 0, k = 0;
  std::int64_t lda = 0, ldb = 0, ldc = 0;
};

// Packed operands: every row stride is the stored matrix's width.
inline RowMajorGemm packed_gemm(Op op_a, Op op_b, std::int64_t m, std::int64_t n, std::int64_t k) {
  return {op_a, op_b, m, n, k, op_a == Op::N ? k : m, op_b == Op::N ? n : k, n};
}

// One product on `stream` (set on the handle). Throws std::runtime_error on a cuBLAS error.
void gemm(cublasHandle_t handle, cudaStream_t stream, ElementType type, const RowMajorGemm& shape,
          const void* a, const void* b, double beta, void* c, double alpha = 1.0);

}  // namespace parm::kernels::cuda
