// For the .cu files only: the device type behind each ElementType, its compute type (fp32 for the 16-bit
// types and fp32, fp64 for fp64), conversions, and a dispatch from the runtime ElementType to a templated
// launch; the launch geometry is launch_geometry.cuh.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "kernels/cuda/element_type.h"
#include "kernels/cuda/launch_geometry.cuh"

namespace parm::kernels::cuda::device {

template <typename Storage>
struct ComputeOf {
  using type = float;
};
template <>
struct ComputeOf<double> {
  using type = double;
};
template <typename Storage>
using Compute = typename ComputeOf<Storage>::type;

__device__ inline float load(float x) {
  return x;
}
__device__ inline double load(double x) {
  return x;
}
__device__ inline float load(__nv_bfloat16 x) {
  return __bfloat162float(x);
}
__device__ inline float load(__half x) {
  return __half2float(x);
}

template <typename Storage>
__device__ inline Storage store(Compute<Storage> x) {
  if constexpr (std::is_same_v<Storage, __nv_bfloat16>)
    return __float2bfloat16_rn(x);
  else if constexpr (std::is_same_v<Storage, __half>)
    return __float2half_rn(x);
  else
    return x;
}

template <typename T>
struct Tag {
  using type = T;
};

// f(Tag<Storage>{}) for the device type of `t`.
template <typename F>
void dispatch(ElementType t, F&& f) {
  switch (t) {
    case ElementType::F32:
      f(Tag<float>{});
      return;
    case ElementType::F64:
      f(Tag<double>{});
      return;
    case ElementType::BF16:
      f(Tag<__nv_bfloat16>{});
      return;
    case ElementType::F16:
      f(Tag<__half>{});
      return;
  }
}

}  // namespace parm::kernels::cuda::device
