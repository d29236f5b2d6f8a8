// Dispatch (tokens -> expert slots) and combine (expert slots -> tokens) as per-element index maps and
// sums, with their backwards, in the operation order of kernels/cpu/dispatch.cpp (bit-identical on the
// host). T is the storage type, S the math type (float for the 16-bit types); reads are static_cast<S>,
// writes T(value). A token's choices are expert[0, k) / position[0, k) (position < 0: dropped).
#pragma once

#include <cstdint>

#include "kernels/hd.h"
#include "kernels/shared/routing_math.h"

namespace parm::kernels::shared {

// Dispatch, element m of token-major choice c: the (E, C, M) element it writes, -1 when dropped (the
// destination was zeroed before, so empty slots stay 0). Its source is x[(c / k) * M + m].
PARM_HD inline std::int64_t dispatch_target(std::int32_t expert, std::int64_t position, std::int64_t capacity,
                                            std::int64_t hidden, std::int64_t m) {
  const std::int64_t row = slot_row(expert, position, capacity);
  return row < 0 ? -1 : row * hidden + m;
}

// Dispatch backward, dx[t, m] (OVERWRITE): the sum over the token's kept choices of d_dispatched[row, m].
template <typename S, typename T>
PARM_HD S dispatch_backward_element(const T* d_dispatched, const std::int32_t* expert,
                                    const std::int64_t* position, std::int64_t top_k, std::int64_t capacity,
                                    std::int64_t hidden, std::int64_t m) {
  S acc = 0;
  for (std::int64_t j = 0; j < top_k; ++j) {
    const std::int64_t row = slot_row(expert[j], position[j], capacity);
    if (row >= 0) acc += static_cast<S>(d_dispatched[row * hidden + m]);
  }
  return acc;
}

// Combine, out[t, m] (OVERWRITE): sum over kept j of weights[j] * y[row_j, m]; 0 with no kept choice.
template <typename S, typename T>
PARM_HD S combine_element(const T* weights, const T* y, const std::int32_t* expert,
                          const std::int64_t* position, std::int64_t top_k, std::int64_t capacity,
                          std::int64_t hidden, std::int64_t m) {
  S acc = 0;
  for (std::int64_t j = 0; j < top_k; ++j) {
    const std::int64_t row = slot_row(expert[j], position[j], capacity);
    if (row >= 0) acc += static_cast<S>(weights[j]) * static_cast<S>(y[row * hidden + m]);
  }
  return acc;
}

// Combine backward, dy[row, m] of a kept choice = w * dout[t, m] (the destination was zeroed before).
template <typename S, typename T>
PARM_HD S combine_backward_dy(T weight, T dout) {
  return static_cast<S>(weight) * static_cast<S>(dout);
}

// sum over m = begin, begin + stride, ... < n of a[m] * b[m], in that order: the weight gradient
// dweights[c] = dot(dout[t], y[row]) is strided_dot(.., 0, M, 1) on the host; a device warp sums the
// lanes' strided parts.
template <typename S, typename T>
PARM_HD S strided_dot(const T* a, const T* b, std::int64_t begin, std::int64_t n, std::int64_t stride) {
  S acc = 0;
  for (std::int64_t m = begin; m < n; m += stride) acc += static_cast<S>(a[m]) * static_cast<S>(b[m]);
  return acc;
}

// Scale: v * factor in the math type.
template <typename S, typename T>
PARM_HD S scaled(T value, T factor) {
  return static_cast<S>(value) * static_cast<S>(factor);
}

// Accumulate: into + part in the math type (a chunk's parameter gradient added into the layer's).
template <typename S, typename T>
PARM_HD S summed(T into, T part) {
  return static_cast<S>(into) + static_cast<S>(part);
}

}  // namespace parm::kernels::shared
