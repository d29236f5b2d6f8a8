// BlockCompute<T> on the host: the Transformer block kernels of kernels/cpu (transformer.h, activation.h,
// OpenBLAS GEMMs) enqueued on the cpu streams' threads.
#pragma once

#include <memory>

#include "engine/backend/block_compute.h"

namespace parm::backend::cpu {

template <typename T>
std::unique_ptr<BlockCompute<T>> make_cpu_blocks();

}  // namespace parm::backend::cpu
