// The cuda backend: one device per rank (the local rank's, or shared round-robin for cuda+mpi), a caching
// device allocator, a non-blocking CUDA stream per lane with cudaEvent times on the host clock, the local
// ops on kernels/cuda (make_cuda_compute) and the groups on NCCL (cuda) or host-staged MPI (cuda+mpi).
#pragma once

#include <memory>

#include "engine/backend/backend.h"

namespace parm::backend::cuda {

// Throws std::runtime_error with one line when no device answers or the placement is refused
// (device_selection.h).
std::unique_ptr<Backend> make_cuda_backend(const BackendOptions& options);

}  // namespace parm::backend::cuda
