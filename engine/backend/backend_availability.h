// Whether `run.backend` can run in this build on this machine. `cuda` and `cuda+mpi` must never fall back to
// the CPU engine: every command that runs a layer asks here first and refuses with one line when it cannot.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "engine/core/config.h"

namespace parm {

// What this build and machine offer for CUDA, gathered once (see probe_cuda).
struct CudaAvailability {
  bool built = false;         // compiled with PARM_WITH_CUDA
  int devices = 0;            // devices cudaGetDeviceCount reported
  std::string probe_error;    // "cudaGetDeviceCount: CUDA driver version is insufficient ..." when it failed
  bool engine_built = false;  // a CUDA layer engine exists (issue 14 adds it)
  std::string device_name{};  // the smallest answering device ("NVIDIA H200"), for `parm check`'s memory rule
  std::int64_t device_memory_bytes = 0;  // its memory; 0 without a device
};

// Asks the CUDA runtime (cudart only, never the driver library) how many devices answer.
CudaAvailability probe_cuda();

// Why `backend` cannot run given `cuda`, and what to use instead ("backend cuda: no CUDA device answers
// (...); use backend cpu"); nullopt when it can run.
std::optional<std::string> backend_unavailable(Backend backend, const CudaAvailability& cuda);

// The same for this build and machine (probes CUDA only for a CUDA backend).
std::optional<std::string> backend_unavailable(Backend backend);

}  // namespace parm
