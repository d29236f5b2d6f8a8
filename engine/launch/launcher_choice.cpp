#include "engine/launch/launcher_choice.h"

namespace parm {

std::optional<LauncherRequest> parse_launcher(std::string_view name) {
  if (name == "auto") return LauncherRequest::Auto;
  if (name == "mpirun") return LauncherRequest::Mpirun;
  if (name == "srun") return LauncherRequest::Srun;
  return std::nullopt;
}

std::string find_srun(const EnvLookup& env) {
  return find_program(env, "SRUN", "srun");
}

LauncherChoice choose_launcher(LauncherRequest request, const EnvLookup& env, bool hostfile, bool cluster) {
  LauncherChoice c;
  const bool allocation = env("SLURM_JOB_ID").has_value();
  const std::string srun = find_srun(env);
  if (request == LauncherRequest::Auto)
    request = allocation && !srun.empty() && !hostfile && !cluster ? LauncherRequest::Srun
                                                                   : LauncherRequest::Mpirun;
  if (request == LauncherRequest::Mpirun) {
    c.binary = find_mpiexec(env);
    c.missing = c.binary.empty();
    if (c.missing) c.error = "mpirun not found: set MPIEXEC or put mpirun on PATH";
    return c;
  }
  c.launcher = Launcher::Srun;
  c.binary = srun;
  if (cluster)
    c.error = "--launcher srun cannot start ranks on an emulated --cluster (its nodes are mpirun's)";
  else if (hostfile)
    c.error = "--launcher srun places the ranks on the Slurm allocation's nodes: --hostfile is mpirun's";
  else if ((c.missing = srun.empty()))
    c.error = "--launcher srun: srun not found: set SRUN or put Slurm's srun on PATH";
  return c;
}

std::string_view to_string(Launcher launcher) {
  return launcher == Launcher::Srun ? "srun" : "mpirun";
}

}  // namespace parm
