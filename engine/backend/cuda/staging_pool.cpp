#include "engine/backend/cuda/staging_pool.h"

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <utility>

namespace parm::backend::cuda {

StagingPool::StagingPool(Memory memory) : memory_(std::move(memory)) {}

StagingPool::~StagingPool() {
  for (Entry& e : entries_) memory_.release(e.block.data);
}

std::size_t StagingPool::capacity_for(std::size_t bytes) {
  constexpr std::size_t kMinimum = 4096;
  return std::bit_ceil(std::max(bytes, kMinimum));
}

StagingPool::Block StagingPool::take(std::size_t bytes) {
  std::lock_guard lock(mutex_);
  Entry* best = nullptr;
  for (Entry& e : entries_) {
    if (e.handed_out || e.block.bytes < bytes) continue;
    if (best && best->block.bytes <= e.block.bytes) continue;
    if (!memory_.idle(e.block.slot)) continue;  // asked last: a device query per candidate
    best = &e;
  }
  if (!best) {
    const std::size_t capacity = capacity_for(bytes);
    void* data = memory_.allocate(capacity);
    if (!data) throw std::bad_alloc();
    entries_.push_back({Block{entries_.size(), static_cast<std::byte*>(data), capacity}, false});
    best = &entries_.back();
  }
  best->handed_out = true;
  return best->block;
}

void StagingPool::give_back(const Block& block) {
  std::lock_guard lock(mutex_);
  if (block.slot >= entries_.size() || entries_[block.slot].block.data != block.data)
    throw std::logic_error("StagingPool::give_back: a block this pool did not hand out");
  entries_[block.slot].handed_out = false;
}

std::int64_t StagingPool::allocations() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::int64_t>(entries_.size());
}

std::size_t StagingPool::held_bytes() const {
  std::lock_guard lock(mutex_);
  std::size_t total = 0;
  for (const Entry& e : entries_) total += e.block.bytes;
  return total;
}

}  // namespace parm::backend::cuda
