// Order and I-Order (spec section 2, steps 3 and 5): tokens to per-expert slots and back, as row copies.
#pragma once

#include <cstdint>

#include "kernels/cpu/routing.h"

namespace parm::kernels::cpu {

// dispatched (E,C,M) = 0, then row [e, pos] = x[t] for every kept choice (t, j). x is (T,M).
template <typename Scalar>
void dispatch(const Routing& routing, const Scalar* x, std::int64_t hidden, Scalar* dispatched);

// dx[t] += d_dispatched[e, pos] for every kept choice (ACCUMULATE: the gate adds its part of dX too).
template <typename Scalar>
void dispatch_backward(const Routing& routing, const Scalar* d_dispatched, std::int64_t hidden, Scalar* dx);

// out[t] = sum over kept j of weights[t*k+j] * y[e_tj, pos_tj] (OVERWRITE; tokens with no kept choice get 0).
template <typename Scalar>
void combine(const Routing& routing, const Scalar* weights, const Scalar* y, std::int64_t hidden,
             Scalar* out);

// dy (E,C,M): dy[e,pos] = w_tj * dout[t], zero for empty slots (OVERWRITE).
// dweights (T*k): dot(dout[t], y[e,pos]), zero for dropped choices (OVERWRITE).
template <typename Scalar>
void combine_backward(const Routing& routing, const Scalar* weights, const Scalar* y, const Scalar* dout,
                      std::int64_t hidden, Scalar* dy, Scalar* dweights);

}  // namespace parm::kernels::cpu
