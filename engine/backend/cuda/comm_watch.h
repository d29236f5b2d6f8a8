// How a host wait on the cuda backend learns what its communicators know: a staged collective whose MPI
// part failed on a lane thread, an NCCL error, an NCCL op that stopped making progress (NCCL has no timeout
// of its own). make_nccl_groups / make_staged_groups register one watcher per context; the backend shell's
// Stream::synchronize() and Event::synchronize() wait through wait_watching_comm instead of blocking in
// cudaStreamSynchronize / cudaEventSynchronize, which would hang forever behind a stuck NCCL kernel.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>

#include "engine/backend/cuda/cuda_parts.h"

namespace parm::backend::cuda {

class CommWatcher {
 public:
  virtual ~CommWatcher() = default;
  // Rethrows the first failure seen (comm::CommError); keeps it, so every later wait rethrows it too.
  virtual void rethrow_failure() = 0;
  // Grows whenever one of its ops completes: a wait that sees no growth for the timeout is stalled.
  virtual std::uint64_t progress() = 0;
  // The wait saw no progress for context.timeout: if an op of this watcher is still pending, abort it and
  // throw comm::CommError naming the op, the group and its peers' world ranks; otherwise return.
  virtual void on_stall() = 0;
};

// Adds `watcher` to the context's watchers until it is destroyed or unwatch_comm (held weakly: its groups
// own it).
void watch_comm(const CudaContext& context, const std::shared_ptr<CommWatcher>& watcher);
void unwatch_comm(const CudaContext& context, const CommWatcher* watcher);

// Polls `reached` (e.g. cudaStreamQuery(s) != cudaErrorNotReady) until true, checking the context's
// watchers between polls; rethrows their failures once reached as well.
void wait_watching_comm(const CudaContext& context, const std::function<bool()>& reached);

}  // namespace parm::backend::cuda
