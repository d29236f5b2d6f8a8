// The communicators of cuda_parts.h on the backend's own streams (cuda_stream_of, the shell's).
#include <stdexcept>

#include "engine/backend/cuda/cuda_parts.h"
#include "engine/backend/cuda/staged_communicator.h"
#if PARM_WITH_NCCL
#include <nccl.h>

#include "engine/backend/cuda/device_text.h"
#include "engine/backend/cuda/nccl_communicator.h"
#endif

namespace parm::backend::cuda {

StreamGroups make_nccl_groups(const comm::CommGroups& transport, CudaContext& context) {
#if PARM_WITH_NCCL
  return make_nccl_groups_on(transport, context, &cuda_stream_of);
#else
  (void)transport;
  (void)context;
  throw std::runtime_error("backend cuda: this build has no NCCL; use backend cuda+mpi");
#endif
}

StreamGroups make_staged_groups(const comm::CommGroups& transport, CudaContext& context) {
  return make_staged_groups_on(transport, context, &cuda_stream_of);
}

std::string comm_library_text(parm::Backend kind) {
  if (kind != parm::Backend::Cuda) return "";  // cuda+mpi: MPI carries the collectives
#if PARM_WITH_NCCL
  int code = 0;
  if (ncclGetVersion(&code) == ncclSuccess) return nccl_version_text(code);
  return "NCCL (version unknown)";
#else
  return "";
#endif
}

}  // namespace parm::backend::cuda
