// Cross entropy of one token's logits over a vocabulary split across the MP group (Megatron's
// vocab-parallel loss, issue 18). Each rank holds logits of vocabulary [first, first + cols); the group
// agrees on the row maximum (MAX all-reduce of row_max), then on the sum of exp(logit - max) (SUM all-reduce
// of partial_exp_sum) and the target's logit (SUM all-reduce of target_logit_part: only its owner
// contributes). loss = log(sum) + max - target_logit; the gradient of the logits is softmax - onehot(target),
// times `scale` (1 / tokens for a mean loss). With one rank the pieces give the plain cross entropy.
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/hd.h"
#include "kernels/shared/math_ops.h"

namespace parm::kernels::shared {

template <typename S>
PARM_HD S log_of(S v) {
#if defined(__CUDA_ARCH__)
  return log(v);
#else
  return std::log(v);
#endif
}

// sum of exp(logits[c] - max) over this rank's part of the vocabulary.
template <typename S>
PARM_HD S partial_exp_sum(const S* logits, std::int64_t cols, S max) {
  S sum = 0;
  for (std::int64_t c = 0; c < cols; ++c) sum += exp_of(logits[c] - max);
  return sum;
}

// The target's logit if this rank holds it, else 0.
template <typename S>
PARM_HD S target_logit_part(const S* logits, std::int64_t first, std::int64_t cols, std::int64_t target) {
  return target >= first && target < first + cols ? logits[target - first] : S(0);
}

template <typename S>
PARM_HD S cross_entropy_loss(S max, S sum, S target_logit) {
  return log_of(sum) + max - target_logit;
}

// dlogits (OVERWRITE) of this rank's part: scale * (exp(logit - max) / sum - [c is the target]).
template <typename S>
PARM_HD void cross_entropy_row_backward(const S* logits, std::int64_t first, std::int64_t cols,
                                        std::int64_t target, S max, S sum, S scale, S* dlogits) {
  const S inv = S(1) / sum;
  for (std::int64_t c = 0; c < cols; ++c) {
    const S p = exp_of(logits[c] - max) * inv;
    dlogits[c] = scale * (p - (first + c == target ? S(1) : S(0)));
  }
}

}  // namespace parm::kernels::shared
