#include "engine/cli/launcher_option.h"

#include <iostream>

#include "engine/launch/launcher_choice.h"

namespace parm::cli {

CLI::Option* add_launcher_option(CLI::App* cmd, std::string& value) {
  return cmd
      ->add_option("--launcher", value,
                   "who starts the ranks: mpirun, srun (Slurm, inside an allocation: ranks on its nodes, "
                   "--mpi=pmix), or auto (default: srun when SLURM_JOB_ID is set and srun is on PATH)")
      ->check(CLI::IsMember({"auto", "mpirun", "srun"}));
}

void apply_launcher(const std::string& value, const EnvLookup& env, LaunchOptions& o, const std::string& who,
                    bool cluster, bool dry_run) {
  const LauncherRequest request =
      parse_launcher(value.empty() ? "auto" : value).value_or(LauncherRequest::Auto);
  const LauncherChoice choice = choose_launcher(request, env, !o.hostfile.empty(), cluster);
  if (!choice.error.empty() && !(dry_run && choice.missing)) {
    std::cerr << who << ": " << choice.error << '\n';
    throw CLI::RuntimeError(2);
  }
  o.launcher = choice.launcher;
  o.mpiexec = choice.binary;
}

}  // namespace parm::cli
