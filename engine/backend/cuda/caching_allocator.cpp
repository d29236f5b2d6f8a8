#include "engine/backend/cuda/caching_allocator.h"

#include <algorithm>

namespace parm::backend::cuda {

std::size_t rounded_block_size(std::size_t bytes) {
  constexpr std::size_t kSmallGranule = 512;
  constexpr std::size_t kLargeGranule = std::size_t{2} << 20;
  constexpr std::size_t kSmallLimit = std::size_t{1} << 20;
  const std::size_t granule = bytes <= kSmallLimit ? kSmallGranule : kLargeGranule;
  return std::max<std::size_t>(1, (bytes + granule - 1) / granule) * granule;
}

CachingAllocator::~CachingAllocator() {
  for (auto& [size, blocks] : free_)
    for (void* block : blocks) raw_.release(block);
}

void* CachingAllocator::allocate(std::size_t bytes) {
  const std::size_t size = rounded_block_size(bytes);
  std::lock_guard lock(mutex_);
  void* block = nullptr;
  if (auto it = free_.find(size); it != free_.end() && !it->second.empty()) {
    block = it->second.back();
    it->second.pop_back();
  } else {
    block = raw_.allocate(size);
    ++stats_.device_allocations;
    reserved_ += static_cast<std::int64_t>(size);
  }
  stats_.live_bytes += static_cast<std::int64_t>(size);
  stats_.peak_bytes = std::max(stats_.peak_bytes, stats_.live_bytes);
  return block;
}

void CachingAllocator::release(void* pointer, std::size_t bytes) noexcept {
  if (!pointer) return;
  const std::size_t size = rounded_block_size(bytes);
  std::lock_guard lock(mutex_);
  try {
    free_[size].push_back(pointer);
  } catch (...) {
    raw_.release(pointer);  // no room to cache it: give it back rather than leak it
    reserved_ -= static_cast<std::int64_t>(size);
  }
  stats_.live_bytes -= static_cast<std::int64_t>(size);
}

void CachingAllocator::copy_to_host(void* host, const void* device, std::size_t bytes) {
  if (bytes) raw_.copy_to_host(host, device, bytes);
}

void CachingAllocator::copy_from_host(void* device, const void* host, std::size_t bytes) {
  if (bytes) raw_.copy_from_host(device, host, bytes);
}

MemoryStats CachingAllocator::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::int64_t CachingAllocator::reserved_bytes() const {
  std::lock_guard lock(mutex_);
  return reserved_;
}

std::int64_t CachingAllocator::cached_blocks() const {
  std::lock_guard lock(mutex_);
  std::int64_t n = 0;
  for (const auto& [size, blocks] : free_) n += static_cast<std::int64_t>(blocks.size());
  return n;
}

}  // namespace parm::backend::cuda
