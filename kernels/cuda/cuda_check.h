// Errors of the CUDA runtime and cuBLAS calls in kernels/cuda as exceptions: a failed call throws one line,
// "<what>: <CUDA or cuBLAS error text>" (std::runtime_error), never aborts, so a missing driver or device is
// an error message, not a crash. Host header; engine/backend/cuda's check_cuda / check_cublas use it too.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace parm::kernels::cuda {

inline void check_status(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}
inline void check_status(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string(what) + ": " + cublasGetStatusString(status));
}

}  // namespace parm::kernels::cuda
