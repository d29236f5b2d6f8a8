#include "kernels/cpu/activation.h"

#include <cmath>
#include <numbers>

namespace parm::kernels::cpu {
namespace {

template <typename Scalar>
Scalar sigmoid(Scalar a) {
  // Two branches so exp() never overflows for large |a|.
  if (a >= Scalar(0)) return Scalar(1) / (Scalar(1) + std::exp(-a));
  const Scalar e = std::exp(a);
  return e / (Scalar(1) + e);
}

}  // namespace

template <typename Scalar>
void gelu_forward(const Scalar* h, std::int64_t n, Scalar* z) {
  const Scalar inv_sqrt2 = Scalar(1) / std::numbers::sqrt2_v<Scalar>;
  for (std::int64_t i = 0; i < n; ++i) z[i] = Scalar(0.5) * h[i] * (Scalar(1) + std::erf(h[i] * inv_sqrt2));
}

template <typename Scalar>
void gelu_backward(const Scalar* h, const Scalar* dz, std::int64_t n, Scalar* dh) {
  const Scalar inv_sqrt2 = Scalar(1) / std::numbers::sqrt2_v<Scalar>;
  const Scalar inv_sqrt_2pi = inv_sqrt2 * std::numbers::inv_sqrtpi_v<Scalar>;
  for (std::int64_t i = 0; i < n; ++i) {
    const Scalar cdf = Scalar(0.5) * (Scalar(1) + std::erf(h[i] * inv_sqrt2));
    const Scalar pdf = inv_sqrt_2pi * std::exp(Scalar(-0.5) * h[i] * h[i]);
    dh[i] = dz[i] * (cdf + h[i] * pdf);
  }
}

template <typename Scalar>
void swiglu_forward(const Scalar* a, const Scalar* b, std::int64_t n, Scalar* z) {
  for (std::int64_t i = 0; i < n; ++i) z[i] = a[i] * sigmoid(a[i]) * b[i];
}

template <typename Scalar>
void swiglu_backward(const Scalar* a, const Scalar* b, const Scalar* dz, std::int64_t n, Scalar* da,
                     Scalar* db) {
  for (std::int64_t i = 0; i < n; ++i) {
    const Scalar s = sigmoid(a[i]);
    const Scalar silu = a[i] * s;
    const Scalar dsilu = s * (Scalar(1) + a[i] * (Scalar(1) - s));
    da[i] = dz[i] * b[i] * dsilu;
    db[i] = dz[i] * silu;
  }
}

#define PARM_INSTANTIATE_ACTIVATION(Scalar)                                                                 \
  template void gelu_forward<Scalar>(const Scalar*, std::int64_t, Scalar*);                                 \
  template void gelu_backward<Scalar>(const Scalar*, const Scalar*, std::int64_t, Scalar*);                 \
  template void swiglu_forward<Scalar>(const Scalar*, const Scalar*, std::int64_t, Scalar*);                \
  template void swiglu_backward<Scalar>(const Scalar*, const Scalar*, const Scalar*, std::int64_t, Scalar*, \
                                        Scalar*);

PARM_INSTANTIATE_ACTIVATION(float)
PARM_INSTANTIATE_ACTIVATION(double)
#undef PARM_INSTANTIATE_ACTIVATION

}  // namespace parm::kernels::cpu
