// MPI has no 16-bit float types, so the host-staged reductions of `cuda+mpi` widen bf16/fp16 to fp32 in the
// staging memory, reduce in fp32 and round back once (NCCL reduces them natively on `cuda`).
#pragma once

#include <cstddef>

#include "engine/comm/communicator.h"

namespace parm::backend::cuda {

// A reduction over `type` runs on fp32 staging copies.
constexpr bool reduces_widened(comm::DataType type) {
  return type == comm::DataType::BF16 || type == comm::DataType::F16;
}

// `count` elements of BF16 or F16 at `from` as floats at `to`, and back (round to nearest even).
void widen_to_f32(const void* from, float* to, std::size_t count, comm::DataType type);
void narrow_from_f32(const float* from, void* to, std::size_t count, comm::DataType type);

}  // namespace parm::backend::cuda
