// Who starts the ranks (issue 20): Open MPI's mpirun (this machine, a hostfile, an emulated cluster) or
// Slurm's srun inside an allocation (`salloc`, an sbatch script: SLURM_JOB_ID is set), where srun places the
// ranks on the allocation's nodes and PMIx wires Open MPI up. `--launcher auto` (the default) takes srun
// exactly when SLURM_JOB_ID is set and srun is on PATH, so a command typed under salloc runs there unchanged.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "engine/launch/launcher.h"

namespace parm {

enum class LauncherRequest { Auto, Mpirun, Srun };

std::optional<LauncherRequest> parse_launcher(std::string_view name);  // "auto", "mpirun", "srun"

// `SRUN` when set, else srun found on PATH (empty when neither exists).
std::string find_srun(const EnvLookup& env);

struct LauncherChoice {
  Launcher launcher = Launcher::Mpirun;
  std::string binary;    // the mpirun or srun to run (empty: not found)
  std::string error;     // why the request cannot be met (one line, without the command prefix)
  bool missing = false;  // the error is only that the binary was not found (a dry run prints the line anyway)
};

// The launcher for `request` given the run's other placement options (a hostfile or an emulated cluster
// place ranks themselves, so they exclude srun, and auto keeps mpirun with them).
LauncherChoice choose_launcher(LauncherRequest request, const EnvLookup& env, bool hostfile, bool cluster);

// "mpirun" / "srun".
std::string_view to_string(Launcher launcher);

}  // namespace parm
