// What every MPI rank subcommand (`worker`, `calibrate-worker`) does around its work.
#pragma once

#include <string>
#include <vector>

#include "engine/comm/mpi_world.h"

namespace parm::cli {

std::string host_name();

// Ranks agree on whether to run, so a file missing on one node never leaves the others waiting: when any rank
// has problems, the first such rank prints them (one line each) and CLI::RuntimeError(2) is thrown on every
// rank (leaving the world's scope finalises MPI).
void agree_or_exit(const std::vector<std::string>& problems, const comm::MpiWorld& world);

}  // namespace parm::cli
