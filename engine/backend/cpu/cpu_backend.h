// The cpu backend: host memory, one thread per lane as the streams, kernels/cpu as Compute, the Open MPI
// transport as the collectives.
#pragma once

#include <memory>

#include "engine/backend/backend.h"

namespace parm::backend::cpu {

std::unique_ptr<Backend> make_cpu_backend();

}  // namespace parm::backend::cpu
