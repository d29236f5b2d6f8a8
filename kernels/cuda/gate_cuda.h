// The router on the device (spec section 2, step 1, and its backward): gate logits by cuBLAS in the math
// type whatever the storage type (fp32 for float/bf16/fp16: 16-bit x and Wg in, fp32 logits out), softmax
// and top-k per token in that type (kernels/shared's order: ties to the lower expert index), and the gate
// backward (combine-weights backward, softmax backward, dWg = X^T dlogits, dX += dlogits Wg^T). Host API;
// scratch comes from the caller.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "kernels/cuda/math_type.h"
#include "kernels/cuda/routing_cuda.h"

namespace parm::kernels::cuda {

// logits (T,E), math type, OVERWRITE = x (T,M) * wg (M,E).
template <typename T>
void gate_logits(cublasHandle_t handle, cudaStream_t stream, const T* x, const T* wg, std::int64_t tokens,
                 std::int64_t hidden, std::int64_t experts, math_t<T>* logits);

// In place: values (T,E) logits -> probabilities; routing.expert gets each token's top k. probs_out (T,E of
// the storage type) also gets the probabilities when not null (the 16-bit types keep fp32 probabilities
// for routing and hand the layer the rounded ones).
template <typename T>
void softmax_top_k(cudaStream_t stream, math_t<T>* values, const DeviceRouting& routing, T* probs_out);

// routing.expert = each token's top k of probs (T,E) already computed (float or double): the routing of
// given probabilities, e.g. a reference's, without the softmax.
template <typename S>
void top_k(cudaStream_t stream, const S* probs, const DeviceRouting& routing);

// Scratch bytes gate_backward needs for (tokens, experts).
template <typename T>
std::size_t gate_backward_scratch_bytes(std::int64_t tokens, std::int64_t experts);

// From dweights (T*k): dprobs by the combine-weights backward, dlogits by the softmax backward, then
// dwg (M,E) = x^T dlogits (OVERWRITE) and dx (T,M) += dlogits wg^T (ACCUMULATE). probs in the math type.
template <typename T>
void gate_backward(cublasHandle_t handle, cudaStream_t stream, const DeviceRouting& routing, const T* x,
                   const T* wg, const math_t<T>* probs, const T* weights, const T* dweights,
                   std::int64_t hidden, T* dwg, T* dx, void* scratch, std::size_t scratch_bytes);

}  // namespace parm::kernels::cuda
