// The launch settings of an emulated cluster as a reusable piece of the launcher: any command that starts
// ranks through mpirun (`parm run --cluster`, later `calibrate` and `validate`, the GUI launcher) applies
// them to its LaunchOptions, and the same engine then runs on the emulated nodes. On a real cluster the user
// gives a hostfile instead and none of this applies.
#pragma once

#include <string>
#include <vector>

#include "engine/launch/emulated_cluster.h"
#include "engine/launch/launcher.h"

namespace parm::cluster {

// Words that start mpirun inside the first node's namespace under its hostname.
std::vector<std::string> launch_wrapper(const ClusterState& state);
// mpirun options: the rsh agent, TCP between nodes and shared memory inside one, both on the node interface.
std::vector<std::string> launcher_args(const ClusterState& state);

// Sets options.wrapper, launcher_args and hostfile; throws ClusterError when options.ranks exceeds the slots.
void apply_cluster(const ClusterState& state, LaunchOptions& options);

}  // namespace parm::cluster
