// Compute<T> on the host: the kernels of kernels/cpu (OpenBLAS GEMMs, the same loops the engine always ran)
// enqueued on the cpu streams' threads.
#pragma once

#include <memory>

#include "engine/backend/compute.h"

namespace parm::backend::cpu {

template <typename T>
std::unique_ptr<Compute<T>> make_cpu_compute();

}  // namespace parm::backend::cpu
