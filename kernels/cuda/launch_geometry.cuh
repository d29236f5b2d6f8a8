// For .cu files only: the launch geometry every elementwise kernel of kernels/cuda uses, grid-stride loops
// over 64-bit element counts.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

namespace parm::kernels::cuda {

constexpr int kThreads = 256;

// Blocks for n work items of a grid-stride loop: enough to fill any device, never above the grid limit.
inline unsigned grid_for(std::int64_t n) {
  const std::int64_t blocks = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(std::clamp<std::int64_t>(blocks, 1, 1 << 20));
}

__device__ inline std::int64_t global_thread() {
  return static_cast<std::int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
}

__device__ inline std::int64_t grid_threads() {
  return static_cast<std::int64_t>(gridDim.x) * blockDim.x;
}

}  // namespace parm::kernels::cuda
