// A counter in pinned, mapped host memory that a CUDA stream waits on until the host raises it: how a
// host-staged collective holds back the work queued after it until its MPI part (on a host thread) is done.
// The comparison is cyclic, like cuStreamWaitValue32's CU_STREAM_WAIT_VALUE_GEQ, so the counter may wrap.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/hd.h"

namespace parm::kernels::cuda {

// `value` has reached `target` ((int32_t)(value - target) >= 0).
PARM_HD inline bool host_flag_reached(std::uint32_t value, std::uint32_t target) {
  return static_cast<std::int32_t>(value - target) >= 0;
}

// Enqueues a one-thread kernel that polls `*flag` (device view of mapped host memory) with __nanosleep
// between volatile reads until host_flag_reached(*flag, target). The fallback where the driver's
// cuStreamWaitValue32 is unavailable: it holds one SM slot while it waits.
cudaError_t launch_host_flag_wait(cudaStream_t stream, const volatile std::uint32_t* flag,
                                  std::uint32_t target);

}  // namespace parm::kernels::cuda
