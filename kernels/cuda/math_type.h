// The type a kernel of kernels/cuda computes in for a storage type: double for double, float for float and
// the 16-bit types (parm::Bf16, parm::F16). Routing (logits, probabilities, top-k) is decided in it. Host
// header: no CUDA types.
#pragma once

#include <type_traits>

namespace parm::kernels::cuda {

template <typename T>
using math_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

}  // namespace parm::kernels::cuda
