// Small helpers the executor's two files share (executor.cpp, executor_pipeline.cpp).
#pragma once

#include <cstdint>

#include "engine/backend/element_type.h"
#include "engine/comm/communicator.h"
#include "engine/run/flow_tensor.h"
#include "engine/schedules/lane.h"
#include "engine/schedules/schedule_ir.h"
#include "profiler/nvtx_ranges.h"

namespace parm::detail {

// What the collectives carry for T (F32, F64, BF16, F16).
template <typename T>
constexpr comm::DataType data_type() {
  return backend::comm_data_type<T>();
}

// NVTX category of a lane: the lane + 1 (NVTX's category 0 means none).
inline profiler::NvtxCategory nvtx_category(Lane lane) {
  return static_cast<profiler::NvtxCategory>(static_cast<std::uint32_t>(lane) + 1);
}

// Sender side (1, E, c, M) <-> expert side (W, E_loc, c, M): the memory layout is the same, block w belongs
// to EP rank w either way, so only the interpretation flips.
template <typename T>
void flip_sides(FlowTensor<T>& f, std::int64_t w) {
  if (f.outer == 1) {
    f.outer = w;
    f.experts /= w;
  } else {
    f.experts *= f.outer;
    f.outer = 1;
  }
}

}  // namespace parm::detail
