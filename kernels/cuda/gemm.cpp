#include "kernels/cuda/gemm.h"

#include "kernels/cuda/cuda_check.h"

namespace parm::kernels::cuda {
namespace {

cublasOperation_t cublas_op(Op op) {
  return op == Op::N ? CUBLAS_OP_N : CUBLAS_OP_T;
}

}  // namespace

void gemm(cublasHandle_t handle, cudaStream_t stream, ElementType type, const RowMajorGemm& shape,
          const void* a, const void* b, double beta, void* c, double alpha) {
  gemm(handle, stream, type, type, shape, a, b, beta, c, alpha);
}

void gemm(cublasHandle_t handle, cudaStream_t stream, ElementType type, ElementType c_type,
          const RowMajorGemm& shape, const void* a, const void* b, double beta, void* c, double alpha) {
  if (shape.m == 0 || shape.n == 0) return;
  check_status(cublasSetStream(handle, stream), "cublasSetStream");
  // alpha and beta live on the host; the handle is shared with other ops, so say so on every call.
  check_status(cublasSetPointerMode(handle, CUBLAS_POINTER_MODE_HOST), "cublasSetPointerMode");
  const ColumnMajorGemm s = column_major_of(shape);
  const cudaDataType_t t = cuda_data_type(type), tc = cuda_data_type(c_type);
  if (type == ElementType::F64) {
    check_status(cublasGemmEx_64(handle, cublas_op(s.op_first), cublas_op(s.op_second), s.m, s.n, s.k, &alpha,
                                 b, t, s.ld_first, a, t, s.ld_second, &beta, c, tc, s.ldc, CUBLAS_COMPUTE_64F,
                                 CUBLAS_GEMM_DEFAULT),
                 "cublasGemmEx (fp64)");
    return;
  }
  const float alpha32 = static_cast<float>(alpha), beta32 = static_cast<float>(beta);
  check_status(cublasGemmEx_64(handle, cublas_op(s.op_first), cublas_op(s.op_second), s.m, s.n, s.k, &alpha32,
                               b, t, s.ld_first, a, t, s.ld_second, &beta32, c, tc, s.ldc, CUBLAS_COMPUTE_32F,
                               CUBLAS_GEMM_DEFAULT),
               "cublasGemmEx");
}

}  // namespace parm::kernels::cuda
