// Expert activations (spec section 2, step 4): exact GELU (BERT, GPT-2) and SwiGLU (Mixtral-type experts).
#pragma once

#include <cstdint>

#include "kernels/shared/activation_math.h"

namespace parm::kernels::cpu {

// Kernel-side twin of parm::Activation (one enum for the cpu and cuda kernels).
using FfnActivation = shared::FfnActivation;

// z = 0.5 * h * (1 + erf(h / sqrt 2)) elementwise over n values.
template <typename Scalar>
void gelu_forward(const Scalar* h, std::int64_t n, Scalar* z);

// dh = dz * (Phi(h) + h * phi(h)) (OVERWRITE).
template <typename Scalar>
void gelu_backward(const Scalar* h, const Scalar* dz, std::int64_t n, Scalar* dh);

// z = silu(a) * b, silu(a) = a * sigmoid(a).
template <typename Scalar>
void swiglu_forward(const Scalar* a, const Scalar* b, std::int64_t n, Scalar* z);

// da = dz * b * silu'(a), db = dz * silu(a) (OVERWRITE).
template <typename Scalar>
void swiglu_backward(const Scalar* a, const Scalar* b, const Scalar* dz, std::int64_t n, Scalar* da,
                     Scalar* db);

}  // namespace parm::kernels::cpu
