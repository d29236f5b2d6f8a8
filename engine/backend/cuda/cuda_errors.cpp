// check_cuda / check_cublas of cuda_parts.h: every CUDA and cuBLAS failure becomes one line naming the call
// (the text of kernels/cuda/cuda_check.h, shared with the kernels).
#include "engine/backend/cuda/cuda_parts.h"
#include "kernels/cuda/cuda_check.h"

namespace parm::backend::cuda {

void check_cuda(cudaError_t status, const char* what) {
  kernels::cuda::check_status(status, what);
}

void check_cublas(cublasStatus_t status, const char* what) {
  kernels::cuda::check_status(status, what);
}

}  // namespace parm::backend::cuda
