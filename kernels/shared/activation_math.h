// Per-element activation math of the expert FFN (spec section 2, step 4), written once for the host and the
// device (PARM_HD): kernels/cpu/activation.cpp loops over these, the CUDA kernels of kernels/cuda call them
// per thread. Each expression keeps the operation order of the original CPU code, so the CPU reference is
// bitwise unchanged; on the device, nvcc's FMA contraction and CUDA's erf/exp may differ by a few ulp
// (bounded by the GPU tests' tolerance, not bitwise).
#pragma once

#include <cmath>

#include "kernels/hd.h"

namespace parm::kernels::shared {

// Kernel-side activation choice, so kernels stay free of the engine's config.
enum class FfnActivation { Gelu, Swiglu };

namespace detail {
// erf/exp by overload: float calls erff/expf on both sides (std::erf(float) on the host is erff).
PARM_HD inline float erf_of(float x) {
  return erff(x);
}
PARM_HD inline double erf_of(double x) {
  return erf(x);
}
PARM_HD inline float exp_of(float x) {
  return expf(x);
}
PARM_HD inline double exp_of(double x) {
  return exp(x);
}

// 1/sqrt(2) and 1/sqrt(2 pi), computed in Scalar exactly as the CPU code did (1 / sqrt2, then * 1/sqrt(pi)).
template <typename Scalar>
PARM_HD inline Scalar inv_sqrt2() {
  return Scalar(1) / Scalar(1.41421356237309504880168872420969808);
}
template <typename Scalar>
PARM_HD inline Scalar inv_sqrt_2pi() {
  return inv_sqrt2<Scalar>() * Scalar(0.564189583547756286948079451560772586);
}
}  // namespace detail

// Two branches so exp() never overflows for large |a|.
template <typename Scalar>
PARM_HD inline Scalar sigmoid(Scalar a) {
  if (a >= Scalar(0)) return Scalar(1) / (Scalar(1) + detail::exp_of(-a));
  const Scalar e = detail::exp_of(a);
  return e / (Scalar(1) + e);
}

// Exact GELU: 0.5 h (1 + erf(h / sqrt 2)).
template <typename Scalar>
PARM_HD inline Scalar gelu(Scalar h) {
  return Scalar(0.5) * h * (Scalar(1) + detail::erf_of(h * detail::inv_sqrt2<Scalar>()));
}

// d gelu / dh = Phi(h) + h phi(h).
template <typename Scalar>
PARM_HD inline Scalar gelu_derivative(Scalar h) {
  const Scalar cdf = Scalar(0.5) * (Scalar(1) + detail::erf_of(h * detail::inv_sqrt2<Scalar>()));
  const Scalar pdf = detail::inv_sqrt_2pi<Scalar>() * detail::exp_of(Scalar(-0.5) * h * h);
  return cdf + h * pdf;
}

template <typename Scalar>
PARM_HD inline Scalar silu(Scalar a) {
  return a * sigmoid(a);
}

// z = silu(a) b.
template <typename Scalar>
PARM_HD inline Scalar swiglu(Scalar a, Scalar b) {
  return a * sigmoid(a) * b;
}

template <typename Scalar>
struct SwigluGrad {
  Scalar da, db;
};

// da = dz b silu'(a), silu'(a) = s (1 + a (1 - s)); db = dz silu(a).
template <typename Scalar>
PARM_HD inline SwigluGrad<Scalar> swiglu_backward(Scalar a, Scalar b, Scalar dz) {
  const Scalar s = sigmoid(a);
  const Scalar silu_a = a * s;
  const Scalar dsilu = s * (Scalar(1) + a * (Scalar(1) - s));
  return {dz * b * dsilu, dz * silu_a};
}

// The fused "bias + activation" forward of one element: h = acc_h + b1 (and v = acc_v + b3 for SwiGLU),
// z = act(h[, v]). h and v are what backward needs (it recomputes the activation's derivative from them).
template <typename Scalar>
struct BiasActivation {
  Scalar h, v, z;
};

template <typename Scalar>
PARM_HD inline BiasActivation<Scalar> bias_activation_forward(FfnActivation act, Scalar acc_h, Scalar b1,
                                                              Scalar acc_v, Scalar b3) {
  const Scalar h = acc_h + b1;
  if (act == FfnActivation::Swiglu) {
    const Scalar v = acc_v + b3;
    return {h, v, swiglu(h, v)};
  }
  return {h, Scalar(0), gelu(h)};
}

// Its backward: dh (and dv for SwiGLU) from dz and the saved h, v. The bias gradients are the column sums of
// dh and dv (a reduction over rows, done apart).
template <typename Scalar>
PARM_HD inline SwigluGrad<Scalar> bias_activation_backward(FfnActivation act, Scalar h, Scalar v, Scalar dz) {
  if (act == FfnActivation::Swiglu) return swiglu_backward(h, v, dz);
  return {dz * gelu_derivative(h), Scalar(0)};
}

}  // namespace parm::kernels::shared
