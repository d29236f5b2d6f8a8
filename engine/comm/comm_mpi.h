// Open MPI implementation of Communicator: non-blocking MPI calls completed by a polling loop with a
// deadline. Requires MPI initialised with MPI_THREAD_MULTIPLE (lanes call MPI from several threads).
#pragma once

#include <mpi.h>

#include <memory>

#include "engine/comm/communicator.h"
#include "engine/core/rank_layout.h"

namespace parm::comm {

// Initialises MPI (MPI_THREAD_MULTIPLE) if needed; throws CommError if the library cannot give that level.
void ensure_mpi_initialized(int* argc, char*** argv);

// Builds the rank's groups from its layout by MPI_Comm_split of MPI_COMM_WORLD; collective over the world.
CommGroups make_mpi_groups(const RankLayout& layout, std::chrono::milliseconds timeout);

class Liveness;

// Wraps an existing communicator (tests use it with MPI_COMM_WORLD or their own splits). Takes ownership when
// `owned` is true (MPI_Comm_free on destruction). With `liveness`, a timed-out wait names the ranks that no
// longer answer (make_mpi_groups gives every group one).
std::unique_ptr<Communicator> wrap_mpi_comm(MPI_Comm comm, std::string name,
                                            std::chrono::milliseconds timeout, bool owned,
                                            std::shared_ptr<Liveness> liveness = nullptr);

}  // namespace parm::comm
