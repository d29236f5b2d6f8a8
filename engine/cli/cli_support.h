// Pieces several subcommands share: reading a configuration before overrides are applied, and what every MPI
// worker subcommand (`worker`, `calibrate-worker`) does around its work.
#pragma once

#include <string>
#include <vector>

#include "engine/core/config_json.h"

namespace parm::cli {

// The configuration as written (a file, an embedded preset named instead of a file, or the embedded default
// when `path` is empty), not yet validated, so command-line overrides apply first. `source` names it for
// messages.
ConfigLoad load_unvalidated(const std::string& path, std::string& source);

std::string host_name();

// Ranks agree on whether to run, so a file missing on one node never leaves the others waiting: when any rank
// has problems, the first such rank prints them (one line each), MPI is finalised and CLI::RuntimeError(2) is
// thrown.
void agree_or_exit(const std::vector<std::string>& problems, int rank, int world);

void finalize_mpi();

}  // namespace parm::cli
