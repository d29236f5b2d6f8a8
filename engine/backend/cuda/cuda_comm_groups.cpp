// The communicators of cuda_parts.h on the backend's own streams (cuda_stream_of, the shell's).
#include <stdexcept>

#include "engine/backend/cuda/cuda_parts.h"
#include "engine/backend/cuda/staged_communicator.h"
#if PARM_WITH_NCCL
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

}  // namespace parm::backend::cuda
