// The row operations of scaled dot-product attention (issue 18): one row of scores of query position q over
// key positions [0, cols), scaled by 1/sqrt(head_dim), causally masked for GPT-style models (keys after q get
// probability exactly 0), softmax; and its backward. The GEMMs around it (Q K^T, P V) are the caller's.
#pragma once

#include <cstdint>

#include "kernels/hd.h"
#include "kernels/shared/softmax_math.h"

namespace parm::kernels::shared {

// In place: row = softmax(scale * row) over [0, visible), 0 from visible on (visible = q + 1 when causal,
// else cols).
template <typename S>
PARM_HD void attention_probs_row(S* row, std::int64_t cols, std::int64_t visible, S scale) {
  for (std::int64_t c = 0; c < visible; ++c) row[c] *= scale;
  softmax_row(row, visible);
  for (std::int64_t c = visible; c < cols; ++c) row[c] = S(0);
}

// dscores (OVERWRITE) of one row from the probabilities p and their gradient dp: the softmax backward over
// the visible keys, times the scale; masked keys get 0.
template <typename S>
PARM_HD void attention_probs_row_backward(const S* p, const S* dp, std::int64_t cols, std::int64_t visible,
                                          S scale, S* dscores) {
  softmax_row_backward(p, dp, visible, dscores);
  for (std::int64_t c = 0; c < visible; ++c) dscores[c] *= scale;
  for (std::int64_t c = visible; c < cols; ++c) dscores[c] = S(0);
}

}  // namespace parm::kernels::shared
