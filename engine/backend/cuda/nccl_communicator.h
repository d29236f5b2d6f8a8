// StreamCommunicator for `cuda`: NCCL, one GPU per rank. The world communicator comes from an id rank 0
// makes and sends to all over the transport world; every other group is an ncclCommSplit of it
// (nccl_split_plan: color = world rank of the group's rank 0, key = world rank), the *Fused twins a second
// split with the same color sharing the group's resources. Communicators are non-blocking (ncclInProgress
// polled through ncclCommGetAsyncError), so a host wait can watch them: an op that makes no progress within
// the context's timeout gets its communicator aborted (ncclCommAbort) and a comm::CommError naming the op,
// the group and its peers' world ranks (comm_watch.h).
//
// NCCL matches ops per communicator, and kernels of different communicators on one GPU can wait on each
// other: every rank must issue its ops on different communicators in the same order. The executor does (the
// schedule's op order is the same on every rank).
#pragma once

#include "engine/backend/cuda/comm_plan.h"
#include "engine/backend/cuda/staged_communicator.h"

namespace parm::backend::cuda {

// make_nccl_groups on streams resolved by `stream_of`. Collective over the transport world; refuses with
// one line (comm::CommError) when two ranks would share a GPU.
StreamGroups make_nccl_groups_on(const comm::CommGroups& transport, CudaContext& context,
                                 CudaStreamOf stream_of);

// This process's host name and the PCI bus id of `device`.
DeviceRecord local_device_record(int device);

}  // namespace parm::backend::cuda
