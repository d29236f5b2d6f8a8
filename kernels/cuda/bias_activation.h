// The fused "bias + activation" of the expert FFN and its backward, over `experts` blocks of (rows, cols)
// (the local experts' packed activations; the biases are (experts, cols)), one elementwise kernel each on the
// per-element math of kernels/shared/activation_math.h. 16-bit data is computed in fp32.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/cuda/element_type.h"
#include "kernels/shared/activation_math.h"

namespace parm::kernels::cuda {

struct BiasActivationShape {
  shared::FfnActivation activation = shared::FfnActivation::Gelu;
  std::int64_t experts = 0, rows = 0, cols = 0;
};

// In place: h = h + b1 (h holds X W1 on entry), for SwiGLU v = v + b3 (v holds X W3); then z = act(h[, v]).
// A null bias adds nothing; v and b3 are ignored for GELU. h and v are kept for the backward.
void bias_activation_forward(cudaStream_t stream, ElementType type, const BiasActivationShape& shape, void* h,
                             const void* b1, void* v, const void* b3, void* z);

// From the saved h (and v) and dz: dh overwrites dz in place, dv (SwiGLU) is written to `dv`.
void bias_activation_backward(cudaStream_t stream, ElementType type, const BiasActivationShape& shape,
                              const void* h, const void* v, void* dz_to_dh, void* dv);

}  // namespace parm::kernels::cuda
