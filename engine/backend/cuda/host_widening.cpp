#include "engine/backend/cuda/host_widening.h"

#include <stdexcept>
#include <string>

#include "kernels/half_types.h"

namespace parm::backend::cuda {
namespace {

template <typename Half>
void widen(const void* from, float* to, std::size_t count) {
  const Half* in = static_cast<const Half*>(from);
  for (std::size_t i = 0; i < count; ++i) to[i] = static_cast<float>(in[i]);
}

template <typename Half>
void narrow(const float* from, void* to, std::size_t count) {
  Half* out = static_cast<Half*>(to);
  for (std::size_t i = 0; i < count; ++i) out[i] = Half(from[i]);
}

[[noreturn]] void not_half(comm::DataType type) {
  throw std::logic_error("widening needs bf16 or fp16, not a type of size " +
                         std::to_string(comm::size_of(type)));
}

}  // namespace

void widen_to_f32(const void* from, float* to, std::size_t count, comm::DataType type) {
  if (type == comm::DataType::BF16) return widen<Bf16>(from, to, count);
  if (type == comm::DataType::F16) return widen<F16>(from, to, count);
  not_half(type);
}

void narrow_from_f32(const float* from, void* to, std::size_t count, comm::DataType type) {
  if (type == comm::DataType::BF16) return narrow<Bf16>(from, to, count);
  if (type == comm::DataType::F16) return narrow<F16>(from, to, count);
  not_half(type);
}

}  // namespace parm::backend::cuda
