// The element types the CUDA kernels take through type-erased pointers (so their headers compile without
// nvcc): fp32, fp64 and the 16-bit types of kernels/half_types.h (bit-compatible with __nv_bfloat16 and
// __half). 16-bit data is stored in 16 bits and computed in fp32; fp64 is computed in fp64.
#pragma once

#include <library_types.h>

#include <cstddef>
#include <type_traits>

#include "kernels/half_types.h"

namespace parm::kernels::cuda {

enum class ElementType { F32, F64, BF16, F16 };

template <typename T>
constexpr ElementType element_type_of() {
  if constexpr (std::is_same_v<T, float>)
    return ElementType::F32;
  else if constexpr (std::is_same_v<T, double>)
    return ElementType::F64;
  else if constexpr (std::is_same_v<T, parm::Bf16>)
    return ElementType::BF16;
  else {
    static_assert(std::is_same_v<T, parm::F16>, "float, double, Bf16 or F16");
    return ElementType::F16;
  }
}

constexpr std::size_t element_bytes(ElementType t) {
  return t == ElementType::F64 ? 8 : t == ElementType::F32 ? 4 : 2;
}

constexpr cudaDataType_t cuda_data_type(ElementType t) {
  switch (t) {
    case ElementType::F32:
      return CUDA_R_32F;
    case ElementType::F64:
      return CUDA_R_64F;
    case ElementType::BF16:
      return CUDA_R_16BF;
    case ElementType::F16:
      return CUDA_R_16F;
  }
  return CUDA_R_32F;
}

}  // namespace parm::kernels::cuda
