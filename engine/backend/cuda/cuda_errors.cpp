// check_cuda / check_cublas of cuda_parts.h: every CUDA and cuBLAS failure becomes one line naming the call.
#include <stdexcept>
#include <string>

#include "engine/backend/cuda/cuda_parts.h"

namespace parm::backend::cuda {

void check_cuda(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return;
  throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

void check_cublas(cublasStatus_t status, const char* what) {
  if (status == CUBLAS_STATUS_SUCCESS) return;
  throw std::runtime_error(std::string(what) + ": " + cublasGetStatusString(status));
}

}  // namespace parm::backend::cuda
