// Host staging memory for the host-staged collectives of `cuda+mpi`: pinned blocks (cudaHostAlloc in the
// product, any allocator in tests) reused once the device is done with them, so a run whose shapes repeat
// allocates nothing per iteration. A block is reused only when it is not handed out and its owner's `idle`
// check says the last op that used it has finished on the device (its completion event was reached).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace parm::backend::cuda {

class StagingPool {
 public:
  struct Memory {
    std::function<void*(std::size_t bytes)> allocate;  // throws when it cannot
    std::function<void(void* data)> release;
    std::function<bool(std::size_t slot)> idle;  // the device finished the last op given this slot
  };
  struct Block {
    std::size_t slot = 0;  // stable index of the block: owners keep per-block events by slot
    std::byte* data = nullptr;
    std::size_t bytes = 0;  // capacity, at least what was asked
  };

  explicit StagingPool(Memory memory);
  ~StagingPool();
  StagingPool(const StagingPool&) = delete;
  StagingPool& operator=(const StagingPool&) = delete;

  // The smallest idle block of at least `bytes`, else a new one (capacity rounded up to a power of two, at
  // least 4 KiB, so slightly varying sizes reuse it). Handed out until give_back.
  Block take(std::size_t bytes);
  // After the op using the block was enqueued (its completion recorded): reusable once idle(slot).
  void give_back(const Block& block);

  std::int64_t allocations() const;  // blocks allocated so far
  std::size_t held_bytes() const;    // capacity of every block

  static std::size_t capacity_for(std::size_t bytes);

 private:
  struct Entry {
    Block block;
    bool handed_out = false;
  };
  Memory memory_;
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;  // index = slot
};

}  // namespace parm::backend::cuda
