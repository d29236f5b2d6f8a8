// Errors of kernels/cuda as exceptions: "<what>: <CUDA or cuBLAS error text>" (std::runtime_error), so the
// backend turns a failed launch into one line. Host header.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace parm::kernels::cuda {

inline void throw_on_cuda_error(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

inline void throw_on_cublas_error(cublasStatus_t status, const char* what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string(what) + ": " + cublasGetStatusString(status));
}

}  // namespace parm::kernels::cuda
