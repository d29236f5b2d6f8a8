// The router: a linear map to one logit per expert and a softmax over the experts (spec section 2, step 1).
#pragma once

#include <cstdint>

namespace parm::kernels::cpu {

// Numerically stable softmax of each row of a (rows, cols) matrix, in place.
template <typename Scalar>
void softmax_rows(Scalar* values, std::int64_t rows, std::int64_t cols);

// dlogits = p * (dp - sum(p * dp)) per row: the softmax backward, written to dlogits (overwrite).
template <typename Scalar>
void softmax_rows_backward(const Scalar* probs, const Scalar* dprobs, std::int64_t rows, std::int64_t cols,
                           Scalar* dlogits);

// probs (T,E) = softmax(X (T,M) * Wg (M,E)).
template <typename Scalar>
void gate_forward(const Scalar* x, const Scalar* wg, std::int64_t tokens, std::int64_t hidden,
                  std::int64_t experts, Scalar* probs);

// From dprobs (T,E): dlogits (T,E, caller's workspace) = softmax backward; dwg (M,E) = X^T dlogits
// (OVERWRITE); dx (T,M) += dlogits Wg^T (ACCUMULATE: dx already holds the gradient that reached X through the
// dispatch).
template <typename Scalar>
void gate_backward(const Scalar* x, const Scalar* wg, const Scalar* probs, const Scalar* dprobs,
                   std::int64_t tokens, std::int64_t hidden, std::int64_t experts, Scalar* dlogits,
                   Scalar* dwg, Scalar* dx);

}  // namespace parm::kernels::cpu
