// The raw device allocator under the caching policy (caching_allocator.h): cudaMalloc / cudaFree on one
// device, and synchronous host copies on a private non-blocking stream (a plain cudaMemcpy from pageable
// memory may return before the data lands, and the legacy default stream does not order the backend's
// non-blocking streams).
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>

#include "engine/backend/cuda/caching_allocator.h"

namespace parm::backend::cuda {

class DeviceRawAllocator final : public RawAllocator {
 public:
  explicit DeviceRawAllocator(int device);
  ~DeviceRawAllocator() override;
  DeviceRawAllocator(const DeviceRawAllocator&) = delete;
  DeviceRawAllocator& operator=(const DeviceRawAllocator&) = delete;

  void* allocate(std::size_t bytes) override;
  void release(void* pointer) noexcept override;
  void copy_to_host(void* host, const void* device, std::size_t bytes) override;
  void copy_from_host(void* device, const void* host, std::size_t bytes) override;

 private:
  void copy(void* to, const void* from, std::size_t bytes, cudaMemcpyKind kind);
  int device_;
  cudaStream_t copies_ = nullptr;
};

}  // namespace parm::backend::cuda
