// The comm code's CUDA error check: the same text as check_cuda of cuda_parts.h, kept here so the
// communicators (and their GPU test) link without the backend shell.
#pragma once

#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

namespace parm::backend::cuda {

inline void comm_check_cuda(cudaError_t status, const char* what) {
  if (status != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
}

}  // namespace parm::backend::cuda
