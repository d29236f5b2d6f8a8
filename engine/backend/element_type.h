// The element types a backend stores tensors in (float, double, Bf16, F16) and what the engine needs to know
// about each without CUDA: the comm DataType its collectives carry, the config dtype it stands for, and the
// type host code computes in (HostMath: float for the 16-bit types). One mapping, used by the executor,
// verification and the worker.
#pragma once

#include <type_traits>

#include "engine/comm/communicator.h"
#include "engine/core/config.h"
#include "kernels/half_types.h"

namespace parm::backend {

template <typename T>
inline constexpr bool is_element_type_v = std::is_same_v<T, float> || std::is_same_v<T, double> ||
                                          std::is_same_v<T, Bf16> || std::is_same_v<T, F16>;

template <typename T>
inline constexpr bool is_16bit_v = std::is_same_v<T, Bf16> || std::is_same_v<T, F16>;

template <typename T>
constexpr comm::DataType comm_data_type() {
  static_assert(is_element_type_v<T>, "float, double, Bf16 or F16");
  if constexpr (std::is_same_v<T, float>) {
    return comm::DataType::F32;
  } else if constexpr (std::is_same_v<T, double>) {
    return comm::DataType::F64;
  } else if constexpr (std::is_same_v<T, Bf16>) {
    return comm::DataType::BF16;
  } else {
    return comm::DataType::F16;
  }
}

template <typename T>
constexpr DType dtype_of() {
  static_assert(is_element_type_v<T>, "float, double, Bf16 or F16");
  if constexpr (std::is_same_v<T, float>) {
    return DType::Fp32;
  } else if constexpr (std::is_same_v<T, double>) {
    return DType::Fp64;
  } else if constexpr (std::is_same_v<T, Bf16>) {
    return DType::Bf16;
  } else {
    return DType::Fp16;
  }
}

// A value computed in double (the counter-based generator) stored as T: for the 16-bit types through fp32
// first (generate in fp32 exactly as the fp32 run does, then round to nearest even), so a bf16 tensor is the
// rounded fp32 tensor element for element.
template <typename T>
T from_double(double v) {
  if constexpr (is_16bit_v<T>) {
    return T(static_cast<float>(v));
  } else {
    return static_cast<T>(v);
  }
}

}  // namespace parm::backend
