// Softmax of one row and its backward, in the exact operation order of kernels/cpu/gate.cpp (row maximum,
// exp of the shifted values, a sequential sum, one reciprocal, a multiply), so the host runs of these
// functions equal the cpu reference bit for bit. S is the math type (float or double).
#pragma once

#include <cstdint>

#include "kernels/hd.h"
#include "kernels/shared/math_ops.h"

namespace parm::kernels::shared {

// The first maximum of row[0, cols) (std::max_element's answer); cols >= 1.
template <typename S>
PARM_HD S row_max(const S* row, std::int64_t cols) {
  S max = row[0];
  for (std::int64_t c = 1; c < cols; ++c)
    if (max < row[c]) max = row[c];
  return max;
}

// In place: row = softmax(row). Subtracting the maximum keeps exp() from overflowing.
template <typename S>
PARM_HD void softmax_row(S* row, std::int64_t cols) {
  if (cols == 0) return;
  const S max = row_max(row, cols);
  S sum = 0;
  for (std::int64_t c = 0; c < cols; ++c) {
    row[c] = exp_of(row[c] - max);
    sum += row[c];
  }
  const S inv = S(1) / sum;
  for (std::int64_t c = 0; c < cols; ++c) row[c] *= inv;
}

// dlogits = p * (dp - sum(p * dp)) for one row (OVERWRITE).
template <typename S>
PARM_HD void softmax_row_backward(const S* p, const S* dp, std::int64_t cols, S* dlogits) {
  S dot = 0;
  for (std::int64_t c = 0; c < cols; ++c) dot += p[c] * dp[c];
  for (std::int64_t c = 0; c < cols; ++c) dlogits[c] = p[c] * (dp[c] - dot);
}

}  // namespace parm::kernels::shared
