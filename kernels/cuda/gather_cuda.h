// Dispatch (Order) and combine (I-Order) on the device, spec section 2 steps 3 and 5, with their
// backwards: index gathers over the routing (kernels/shared/gather_math.h), never a dense S x E x C mask.
// Tensors: x, dx, out, dout (T,M); dispatched, y, dy (E,C,M) with C = routing.capacity; weights (T*k).
// Host API, storage types float, double, parm::Bf16, parm::F16 (16-bit storage, fp32 sums).
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/cuda/routing_cuda.h"

namespace parm::kernels::cuda {

// out = 0, then row (e, slot) = x[t] for every kept choice.
template <typename T>
void dispatch(cudaStream_t stream, const DeviceRouting& routing, const T* x, std::int64_t hidden, T* out);

// dx[t] = sum of d_dispatched[e, slot] over the token's kept choices (OVERWRITE).
template <typename T>
void dispatch_backward(cudaStream_t stream, const DeviceRouting& routing, const T* d_dispatched,
                       std::int64_t hidden, T* dx);

// out[t] = sum over kept j of weights[t*k+j] * y[e, slot] (OVERWRITE; 0 for tokens that lost every choice).
template <typename T>
void combine(cudaStream_t stream, const DeviceRouting& routing, const T* weights, const T* y,
             std::int64_t hidden, T* out);

// dy (E,C,M) = 0, then dy[e, slot] = w * dout[t]; dweights[c] = dot(dout[t], y[e, slot]), 0 when dropped
// (both OVERWRITE).
template <typename T>
void combine_backward(cudaStream_t stream, const DeviceRouting& routing, const T* weights, const T* y,
                      const T* dout, std::int64_t hidden, T* dy, T* dweights);

}  // namespace parm::kernels::cuda
