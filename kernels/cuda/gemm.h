// Row-major GEMM on cuBLAS, for the expert FFN and the calibration's "gemm" fit: one cuBLAS call per product,
// mapped to column-major by column_major_of (gemm_layout.h, where the mapping is explained and host-tested).
// fp32 and the 16-bit types compute in fp32 (CUBLAS_COMPUTE_32F: 16-bit inputs and outputs, fp32
// accumulation, no TF32), fp64 in fp64. The handle's stream and pointer mode are set on every call.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "kernels/cuda/element_type.h"
#include "kernels/cuda/gemm_layout.h"

namespace parm::kernels::cuda {

// C = alpha op(A) op(B) + beta C on `stream`; A and B of `type`, C of `type` too unless `c_type` says
// otherwise (the gate's fp32 logits from 16-bit inputs). Throws std::runtime_error on a cuBLAS error.
void gemm(cublasHandle_t handle, cudaStream_t stream, ElementType type, const RowMajorGemm& shape,
          const void* a, const void* b, double beta, void* c, double alpha = 1.0);
void gemm(cublasHandle_t handle, cudaStream_t stream, ElementType type, ElementType c_type,
          const RowMajorGemm& shape, const void* a, const void* b, double beta, void* c, double alpha = 1.0);

}  // namespace parm::kernels::cuda
