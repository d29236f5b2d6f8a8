// The one activation (or gradient) that flows along a schedule's op list: a view of a device buffer and its
// shape, which the executor tracks on the host while it enqueues. Token tensors are (rows, M) stored as
// outer = rows; dispatched tensors are (outer, experts, slot_count, M), expert-major (see schedule_ir.h).
#pragma once

#include <cstdint>

#include "engine/backend/buffer.h"

namespace parm {

template <typename T>
struct FlowTensor {
  backend::View<T> data;
  std::int64_t outer = 0;  // rows of a token tensor; 1 (sender side) or W / N*W (expert side) when dispatched
  std::int64_t experts = 1;     // E on the sender side, E_loc on the expert side
  std::int64_t slot_count = 1;  // capacity slot_count per expert
  std::int64_t width = 0;       // M
  bool dispatched = false;

  std::int64_t elements() const { return outer * experts * slot_count * width; }
  // Elements of one outer block.
  std::int64_t block() const { return experts * slot_count * width; }

  static FlowTensor tokens(backend::View<T> values, std::int64_t rows, std::int64_t m) {
    return {values, rows, 1, 1, m, false};
  }
  static FlowTensor dispatch(backend::View<T> values, std::int64_t outer, std::int64_t experts,
                             std::int64_t slot_count, std::int64_t m) {
    return {values, outer, experts, slot_count, m, true};
  }
};

}  // namespace parm
