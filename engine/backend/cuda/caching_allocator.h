// The caching policy of the cuda backend's device memory, kept apart from CUDA so a host test can drive it
// over a host raw allocator. Blocks are rounded up to a size class and kept on a free list per class when a
// buffer releases them; the next request of that class reuses one, so after the first iteration of a layer
// (whose buffer sizes repeat) no call reaches the raw allocator (cudaMalloc) at all. Nothing is returned to
// the raw allocator until the CachingAllocator dies.
//
// Why a cache and not a cudaMallocAsync pool: a pool allocates and frees in stream order, but Buffer<T> has
// no stream (the same buffer is written on one lane and read on another, and freed from the host), and the
// executor already synchronises before it frees buffers that queued work still uses (as the cpu backend
// requires too). A host-side cache keeps that contract, counts raw calls exactly (MemoryStats) and behaves
// the same on every driver.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/backend/buffer.h"

namespace parm::backend::cuda {

// Where the blocks really come from (cudaMalloc / cudaFree and synchronous copies on a device; malloc in
// the host test).
class RawAllocator {
 public:
  virtual ~RawAllocator() = default;
  virtual void* allocate(std::size_t bytes) = 0;  // throws std::runtime_error when it cannot
  virtual void release(void* pointer) noexcept = 0;
  virtual void copy_to_host(void* host, const void* device, std::size_t bytes) = 0;
  virtual void copy_from_host(void* device, const void* host, std::size_t bytes) = 0;
};

// The size class of a request: 512-byte granules up to 1 MiB (cuBLAS and the kernels want 256-byte
// alignment; small scratch sizes vary), 2 MiB granules above, so nearly equal large buffers share blocks.
std::size_t rounded_block_size(std::size_t bytes);

class CachingAllocator final : public Allocator {
 public:
  explicit CachingAllocator(RawAllocator& raw) : raw_(raw) {}
  ~CachingAllocator() override;  // returns every cached block to the raw allocator
  CachingAllocator(const CachingAllocator&) = delete;
  CachingAllocator& operator=(const CachingAllocator&) = delete;

  void* allocate(std::size_t bytes) override;
  void release(void* pointer, std::size_t bytes) noexcept override;
  void copy_to_host(void* host, const void* device, std::size_t bytes) override;
  void copy_from_host(void* device, const void* host, std::size_t bytes) override;

  // live/peak: rounded bytes held by buffers; device_allocations: calls into the raw allocator.
  MemoryStats stats() const;
  std::int64_t reserved_bytes() const;  // held by buffers + cached: the device footprint
  std::int64_t cached_blocks() const;

 private:
  RawAllocator& raw_;
  mutable std::mutex mutex_;  // buffers may be freed on another thread than the one that made them
  std::unordered_map<std::size_t, std::vector<void*>> free_;  // by rounded size
  MemoryStats stats_;
  std::int64_t reserved_ = 0;
};

}  // namespace parm::backend::cuda
