// StreamCommunicator for the cpu backend: each collective is queued on the stream's lane thread, where it
// runs the blocking transport (engine/comm, Open MPI) with its bounded waits.
#pragma once

#include <memory>

#include "engine/backend/stream_communicator.h"

namespace parm::backend::cpu {

// `transport` must outlive the result.
std::unique_ptr<StreamCommunicator> make_cpu_communicator(comm::Communicator& transport);

}  // namespace parm::backend::cpu
