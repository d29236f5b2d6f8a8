// Memory that lives on a backend's device (host memory for cpu, device memory for cuda): a typed, move-only
// Buffer made by the backend's Allocator, and the non-owning View (pointer + count) that ops take. Only host
// conveniences (tests, verify, calibration) copy between host and device, through the allocator.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

namespace parm::backend {

template <typename T>
struct View {
  T* ptr = nullptr;
  std::size_t count = 0;

  T* data() const { return ptr; }
  std::size_t size() const { return count; }
  bool empty() const { return count == 0; }
  View slice(std::int64_t offset, std::int64_t n) const {
    return {ptr + offset, static_cast<std::size_t>(n)};
  }
  operator View<const T>() const { return {ptr, count}; }  // NOLINT: a writable view reads as well
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  virtual void* allocate(std::size_t bytes) = 0;
  virtual void release(void* pointer, std::size_t bytes) noexcept = 0;
  // Synchronous copies for host conveniences; the executor's own data never passes through the host.
  virtual void copy_to_host(void* host, const void* device, std::size_t bytes) = 0;
  virtual void copy_from_host(void* device, const void* host, std::size_t bytes) = 0;
};

template <typename T>
class Buffer {
 public:
  Buffer() = default;
  Buffer(Allocator& allocator, std::size_t count)
      : allocator_(&allocator),
        ptr_(count ? static_cast<T*>(allocator.allocate(count * sizeof(T))) : nullptr),
        count_(count) {}
  ~Buffer() { reset(); }
  Buffer(Buffer&& other) noexcept { *this = std::move(other); }
  Buffer& operator=(Buffer&& other) noexcept {
    if (this != &other) {
      reset();
      allocator_ = std::exchange(other.allocator_, nullptr);
      ptr_ = std::exchange(other.ptr_, nullptr);
      count_ = std::exchange(other.count_, 0);
    }
    return *this;
  }
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;

  T* data() const { return ptr_; }
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  View<T> view() const { return {ptr_, count_}; }

 private:
  void reset() {
    if (ptr_) allocator_->release(ptr_, count_ * sizeof(T));
    ptr_ = nullptr;
    count_ = 0;
  }
  Allocator* allocator_ = nullptr;
  T* ptr_ = nullptr;
  std::size_t count_ = 0;
};

}  // namespace parm::backend
