#include "kernels/cuda/row_major_gemm.h"

#include <algorithm>

#include "kernels/cuda/cuda_check.h"

namespace parm::kernels::cuda {
namespace {

cublasOperation_t op_of(Transpose t) {
  return t == Transpose::No ? CUBLAS_OP_N : CUBLAS_OP_T;
}

}  // namespace

void row_major_gemm(cublasHandle_t handle, cudaStream_t stream, Transpose trans_a, Transpose trans_b,
                    std::int64_t m, std::int64_t n, std::int64_t k, const void* alpha, GemmOperand a,
                    GemmOperand b, const void* beta, GemmOutput c, cublasComputeType_t compute) {
  if (m == 0 || n == 0) return;
  throw_on_cublas_error(cublasSetStream(handle, stream), "cublasSetStream");
  // cuBLAS wants every leading dimension >= 1 even for an empty inner dimension (k == 0: C = beta * C).
  const std::int64_t lda = std::max<std::int64_t>(a.ld, 1), ldb = std::max<std::int64_t>(b.ld, 1);
  throw_on_cublas_error(
      cublasGemmEx_64(handle, op_of(trans_b), op_of(trans_a), n, m, k, alpha, b.data, b.type, ldb, a.data,
                      a.type, lda, beta, c.data, c.type, c.ld, compute, CUBLAS_GEMM_DEFAULT),
      "cublasGemmEx");
}

}  // namespace parm::kernels::cuda
