// Which CUDA device a rank uses and how the driver is named, as pure functions (no CUDA) for a host test.
#pragma once

#include <string>

#include "engine/backend/backend.h"

namespace parm::backend::cuda {

// `cuda` (NCCL, one rank per GPU): the local rank's device, refused with one line when the host has fewer
// devices than ranks (NCCL would fail later with "Duplicate GPU detected"). `cuda+mpi` (host-staged MPI):
// local_rank % device_count, so several ranks share a device. Throws std::runtime_error.
int select_device_ordinal(const BackendOptions& options, int device_count);

// "13.0" from the 13000 that cudaDriverGetVersion / cudaRuntimeGetVersion report.
std::string cuda_version_text(int version);

// "CUDA driver 13.0, runtime 13.0".
std::string cuda_driver_text(int driver_version, int runtime_version);

}  // namespace parm::backend::cuda
