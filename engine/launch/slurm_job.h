// A run submitted to Slurm (issue 20, `parm run --slurm`): the sbatch script (a pure function, so `--dry-run`
// prints exactly what is submitted and tests check it), what scontrol says of a job, and the commands that
// submit and cancel one. The script runs `parm run ... --launcher srun` inside the allocation, so the job
// step is the same run, summary, database and failure handling as a local one.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/launch/launcher.h"

namespace parm::slurm {

struct JobRequest {
  std::string job_name;  // "parm-<config>"
  int ranks = 1;
  int nodes = 0;                               // 0: not asked (Slurm places ranks / tasks_per_node)
  int tasks_per_node = 0;                      // 0: not asked
  int gpus_per_node = 0;                       // 0: none asked per node
  int gpus_per_task = 0;                       // 0: none asked per rank
  std::string partition, account, time_limit;  // empty: the cluster's defaults
  bool overcommit = false;                     // CPU ranks share cores, as under mpirun
  std::string out_path, err_path;              // with %j for the job id
  std::string workdir;
  std::vector<std::string> command;  // the job step: parm run CONFIG --launcher srun ...
};

// "#!/bin/bash", one "#SBATCH" line per setting, a comment saying how it was made and how to resubmit it, and
// `exec` of the command, every word quoted for the shell.
std::string sbatch_script(const JobRequest& request, std::string_view made_by);

// Slurm's time format (minutes, M:S, H:M:S, D-H, D-H:M, D-H:M:S).
bool valid_time_limit(std::string_view text);
// A partition or account name that cannot break the script's lines: letters, digits and _.-+@,:
bool valid_slurm_name(std::string_view text);

struct JobInfo {
  std::string state;   // PENDING, RUNNING, COMPLETING, COMPLETED, FAILED, CANCELLED, TIMEOUT, ...
  std::string reason;  // "None", "Resources", "Priority", "NonZeroExitCode", ...
  int exit_code = 0;   // of the batch script
  int exit_signal = 0;
  std::string nodes;       // NodeList
  std::string time_limit;  // TimeLimit
};
// One line of `scontrol show job -o ID`; nullopt when it has no JobState.
std::optional<JobInfo> parse_scontrol_job(std::string_view line);
// A state the job does not leave (COMPLETED and every failure).
bool is_finished(std::string_view state);

// The job id `sbatch --parsable` printed ("12" or "12;cluster"); nullopt when there is none.
std::optional<std::string> parse_job_id(std::string_view sbatch_output);

// `NAME` env override (SBATCH, SCONTROL, SCANCEL) or the tool on PATH; empty when neither exists.
std::string find_tool(const EnvLookup& env, const std::string& name);

}  // namespace parm::slurm
