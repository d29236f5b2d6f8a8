#include "kernels/cpu/activation.h"

#include "kernels/shared/activation_math.h"

// Loops over the per-element math of kernels/shared, which the CUDA kernels run as well.
namespace parm::kernels::cpu {

template <typename Scalar>
void gelu_forward(const Scalar* h, std::int64_t n, Scalar* z) {
  for (std::int64_t i = 0; i < n; ++i) z[i] = shared::gelu(h[i]);
}

template <typename Scalar>
void gelu_backward(const Scalar* h, const Scalar* dz, std::int64_t n, Scalar* dh) {
  for (std::int64_t i = 0; i < n; ++i) dh[i] = dz[i] * shared::gelu_derivative(h[i]);
}

template <typename Scalar>
void swiglu_forward(const Scalar* a, const Scalar* b, std::int64_t n, Scalar* z) {
  for (std::int64_t i = 0; i < n; ++i) z[i] = shared::swiglu(a[i], b[i]);
}

template <typename Scalar>
void swiglu_backward(const Scalar* a, const Scalar* b, const Scalar* dz, std::int64_t n, Scalar* da,
                     Scalar* db) {
  for (std::int64_t i = 0; i < n; ++i) {
    const shared::SwigluGrad<Scalar> g = shared::swiglu_backward(a[i], b[i], dz[i]);
    da[i] = g.da;
    db[i] = g.db;
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
