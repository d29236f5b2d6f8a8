// Loads the cuda engine module (libparm_cuda.so, engine/backend/cuda) on first use and makes a backend from
// it. Kept out of the executables' link so that cpu runs never load the CUDA libraries.
#pragma once

#include <memory>

#include "engine/backend/backend.h"

namespace parm::backend {

// Looks for the module in $PARM_CUDA_MODULE, next to the running executable, then where the build put it;
// throws std::runtime_error naming every place tried and dlopen's reason when none loads.
std::unique_ptr<Backend> make_cuda_backend_from_module(const BackendOptions& options);

}  // namespace parm::backend
