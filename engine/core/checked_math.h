// Products and sums of sizes that a user's configuration can make arbitrarily large: each one is checked, so
// a size that leaves 64 bits is refused by validation instead of wrapping (batch 2^57 made S wrap to 0).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>

namespace parm {

inline std::optional<std::int64_t> checked_mul(std::int64_t a, std::int64_t b) {
  std::int64_t out = 0;
  if (__builtin_mul_overflow(a, b, &out)) return std::nullopt;
  return out;
}

inline std::optional<std::int64_t> checked_add(std::int64_t a, std::int64_t b) {
  std::int64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) return std::nullopt;
  return out;
}

// The product of every factor; nullopt as soon as one partial product overflows.
inline std::optional<std::int64_t> checked_product(std::initializer_list<std::int64_t> factors) {
  std::int64_t out = 1;
  for (std::int64_t f : factors)
    if (__builtin_mul_overflow(out, f, &out)) return std::nullopt;
  return out;
}

// Accumulates checked products and sums; once anything overflows, the result stays unset.
class CheckedSum {
 public:
  CheckedSum& add(std::optional<std::int64_t> term) {
    if (!term || !total_) {
      total_.reset();
    } else {
      total_ = checked_add(*total_, *term);
    }
    return *this;
  }
  CheckedSum& add_product(std::initializer_list<std::int64_t> factors) {
    return add(checked_product(factors));
  }
  std::optional<std::int64_t> total() const { return total_; }

 private:
  std::optional<std::int64_t> total_ = 0;
};

}  // namespace parm
