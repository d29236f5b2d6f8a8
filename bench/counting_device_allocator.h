// A plain cudaMalloc allocator for the GPU experts benchmark and test (the backend's caching allocator is
// another part of the cuda backend), counting its allocations so a run can show that a steady loop of
// expert passes allocates nothing.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "engine/backend/buffer.h"

namespace parm::bench {

class CountingDeviceAllocator final : public backend::Allocator {
 public:
  void* allocate(std::size_t bytes) override {
    void* p = nullptr;
    check(cudaMalloc(&p, bytes ? bytes : 1), "cudaMalloc");
    ++allocations_;
    return p;
  }
  void release(void* pointer, std::size_t) noexcept override { cudaFree(pointer); }
  void copy_to_host(void* host, const void* device, std::size_t bytes) override {
    check(cudaMemcpy(host, device, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy to host");
  }
  void copy_from_host(void* device, const void* host, std::size_t bytes) override {
    check(cudaMemcpy(device, host, bytes, cudaMemcpyHostToDevice), "cudaMemcpy from host");
  }
  std::int64_t allocations() const { return allocations_; }

 private:
  static void check(cudaError_t s, const char* what) {
    if (s != cudaSuccess) throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(s));
  }
  std::int64_t allocations_ = 0;
};

}  // namespace parm::bench
