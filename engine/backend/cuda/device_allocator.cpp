#include "engine/backend/cuda/device_allocator.h"

#include <string>

#include "engine/backend/cuda/cuda_parts.h"

namespace parm::backend::cuda {

DeviceRawAllocator::DeviceRawAllocator(int device) : device_(device) {
  check_cuda(cudaSetDevice(device_), "cudaSetDevice");
  check_cuda(cudaStreamCreateWithFlags(&copies_, cudaStreamNonBlocking), "cudaStreamCreateWithFlags");
}

DeviceRawAllocator::~DeviceRawAllocator() {
  cudaSetDevice(device_);
  cudaStreamDestroy(copies_);
}

void* DeviceRawAllocator::allocate(std::size_t bytes) {
  check_cuda(cudaSetDevice(device_), "cudaSetDevice");
  void* block = nullptr;
  const cudaError_t status = cudaMalloc(&block, bytes);
  if (status != cudaSuccess) {
    cudaGetLastError();  // an out-of-memory error is not sticky: clear it so the caller can carry on
    check_cuda(status, ("cudaMalloc of " + std::to_string(bytes) + " bytes").c_str());
  }
  return block;
}

void DeviceRawAllocator::release(void* pointer) noexcept {
  cudaSetDevice(device_);
  cudaFree(pointer);
}

void DeviceRawAllocator::copy(void* to, const void* from, std::size_t bytes, cudaMemcpyKind kind) {
  check_cuda(cudaSetDevice(device_), "cudaSetDevice");
  check_cuda(cudaMemcpyAsync(to, from, bytes, kind, copies_), "cudaMemcpyAsync");
  check_cuda(cudaStreamSynchronize(copies_), "cudaStreamSynchronize (host copy)");
}

void DeviceRawAllocator::copy_to_host(void* host, const void* device, std::size_t bytes) {
  copy(host, device, bytes, cudaMemcpyDeviceToHost);
}

void DeviceRawAllocator::copy_from_host(void* device, const void* host, std::size_t bytes) {
  copy(device, host, bytes, cudaMemcpyHostToDevice);
}

}  // namespace parm::backend::cuda
