// For .cu files only: the CUDA type behind each host storage type of the API (parm::Bf16 -> __nv_bfloat16,
// parm::F16 -> __half, bit-compatible), and the launch geometry (launch_geometry.cuh).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "kernels/cuda/launch_geometry.cuh"
#include "kernels/half_types.h"

namespace parm::kernels::cuda {

template <typename T>
struct DeviceType {
  using type = T;
};
template <>
struct DeviceType<parm::Bf16> {
  using type = __nv_bfloat16;
};
template <>
struct DeviceType<parm::F16> {
  using type = __half;
};
template <typename T>
using device_t = typename DeviceType<T>::type;

static_assert(sizeof(device_t<parm::Bf16>) == sizeof(parm::Bf16) && sizeof(device_t<parm::F16>) == 2);

template <typename T>
device_t<T>* device_ptr(T* p) {
  return reinterpret_cast<device_t<T>*>(p);
}
template <typename T>
const device_t<T>* device_ptr(const T* p) {
  return reinterpret_cast<const device_t<T>*>(p);
}

}  // namespace parm::kernels::cuda
