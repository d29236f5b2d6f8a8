// Clock alignment across the MPI world for merged traces: every rank's clock offset to rank 0, by ping-pong
// (profiler/clock_alignment.h estimates the offset from the samples).
#pragma once

#include "engine/comm/mpi_world.h"
#include "profiler/clock_alignment.h"

namespace parm::comm {

// Collective over the world: every rank gets its clock's offset to rank 0 (rank 0: zero). `rounds`
// ping-pongs per rank; the shortest round trip wins.
profiler::ClockOffset measure_clock_offset(const MpiWorld& world, int rounds = 16);

}  // namespace parm::comm
