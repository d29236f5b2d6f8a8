#include "kernels/cuda/bias_activation.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_element.cuh"

namespace parm::kernels::cuda {
namespace {

using device::Compute;
using device::load;
using device::store;

template <typename S>
__global__ void forward_kernel(BiasActivationShape shape, S* h, const S* b1, S* v, const S* b3, S* z) {
  using C = Compute<S>;
  const std::int64_t n = shape.experts * shape.rows * shape.cols, per_expert = shape.rows * shape.cols;
  const bool swiglu = shape.activation == shared::FfnActivation::Swiglu;
  for (std::int64_t i = global_thread(); i < n; i += grid_threads()) {
    const std::int64_t bias_index = i / per_expert * shape.cols + i % shape.cols;
    const C bias_h = b1 ? load(b1[bias_index]) : C(0);
    const C acc_v = swiglu ? load(v[i]) : C(0);
    const C bias_v = swiglu && b3 ? load(b3[bias_index]) : C(0);
    const shared::BiasActivation<C> r =
        shared::bias_activation_forward(shape.activation, load(h[i]), bias_h, acc_v, bias_v);
    h[i] = store<S>(r.h);
    if (swiglu) v[i] = store<S>(r.v);
    z[i] = store<S>(r.z);
  }
}

template <typename S>
__global__ void backward_kernel(BiasActivationShape shape, const S* h, const S* v, S* dz_to_dh, S* dv) {
  using C = Compute<S>;
  const std::int64_t n = shape.experts * shape.rows * shape.cols;
  const bool swiglu = shape.activation == shared::FfnActivation::Swiglu;
  for (std::int64_t i = global_thread(); i < n; i += grid_threads()) {
    const shared::SwigluGrad<C> g = shared::bias_activation_backward(
        shape.activation, load(h[i]), swiglu ? load(v[i]) : C(0), load(dz_to_dh[i]));
    dz_to_dh[i] = store<S>(g.da);
    if (swiglu) dv[i] = store<S>(g.db);
  }
}

}  // namespace

void bias_activation_forward(cudaStream_t stream, ElementType type, const BiasActivationShape& shape, void* h,
                             const void* b1, void* v, const void* b3, void* z) {
  const std::int64_t n = shape.experts * shape.rows * shape.cols;
  if (n == 0) return;
  device::dispatch(type, [&](auto tag) {
    using S = typename decltype(tag)::type;
    forward_kernel<S><<<grid_for(n), kThreads, 0, stream>>>(shape, static_cast<S*>(h),
                                                            static_cast<const S*>(b1), static_cast<S*>(v),
                                                            static_cast<const S*>(b3), static_cast<S*>(z));
  });
  check_status(cudaGetLastError(), "bias_activation_forward launch");
}

void bias_activation_backward(cudaStream_t stream, ElementType type, const BiasActivationShape& shape,
                              const void* h, const void* v, void* dz_to_dh, void* dv) {
  const std::int64_t n = shape.experts * shape.rows * shape.cols;
  if (n == 0) return;
  device::dispatch(type, [&](auto tag) {
    using S = typename decltype(tag)::type;
    backward_kernel<S><<<grid_for(n), kThreads, 0, stream>>>(shape, static_cast<const S*>(h),
                                                             static_cast<const S*>(v),
                                                             static_cast<S*>(dz_to_dh), static_cast<S*>(dv));
  });
  check_status(cudaGetLastError(), "bias_activation_backward launch");
}

}  // namespace parm::kernels::cuda
