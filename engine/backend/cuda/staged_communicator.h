// StreamCommunicator for `cuda+mpi`: several ranks may share one GPU, so collectives run on the transport's
// blocking MPI communicators (engine/comm) through pinned host memory. Per op, on the lane's CUDA stream:
// device->host copy into a pooled staging block, an event, a wait on the lane's HostSignal, host->device
// copy, a completion event; on the lane's host thread (LaneSet of engine/backend/cpu/lanes.h, in enqueue
// order, one thread per lane as on the cpu backend): wait for the first event, the MPI call, raise the
// signal. BF16/F16 reductions are widened to fp32 on the host (MPI has no 16-bit types). Device pointers go
// straight to MPI (no copies) only where comm::mpi_accepts_device_pointers().
//
// Failures: a failed MPI call (a dead peer: comm::CommError from the liveness layer) still raises the
// signal, so the stream drains; it is kept, later ops of these groups skip their MPI part, and
// wait_watching_comm (comm_watch.h), which the shell's synchronize must wait through, rethrows it.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "engine/backend/cuda/cuda_parts.h"

namespace parm::backend::cuda {

// Which CUDA stream runs a backend stream: cuda_stream_of in the product; tests pass their own.
using CudaStreamOf = cudaStream_t (*)(Stream&);

// make_staged_groups on streams resolved by `stream_of`. `transport` and `context` outlive the groups.
StreamGroups make_staged_groups_on(const comm::CommGroups& transport, CudaContext& context,
                                   CudaStreamOf stream_of);

// Staging blocks allocated so far by the groups `communicator` belongs to (-1: not a staged communicator):
// constant once the shapes of an iteration repeat.
std::int64_t staging_allocations(const StreamCommunicator& communicator);

}  // namespace parm::backend::cuda
