// `parm run CONFIG --slurm` (issue 20): the run as a Slurm batch job. Writes the effective config and an
// sbatch script into the project's slurm/ folder (beside --db, else the working directory), submits it
// (`--dry-run` prints it instead), follows the job (its state and Slurm's reason while it waits and runs, its
// output streamed), and ends with one line naming the job id and Slurm's final state. The job step is `parm
// run ... --launcher srun`, so the run's summary, --db storage and failure handling are a local run's.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/config.h"

namespace parm::cli {

struct SlurmOptions {
  bool submit = false;  // --slurm
  std::string partition, account, time_limit;
  std::int64_t nodes = 0;            // --nodes: 0 lets Slurm place the ranks
  std::string remote;                // --remote HOST: submit from this login host over ssh
  std::string remote_parm = "parm";  // --remote-parm: the parm to run there
  bool requested() const { return submit; }
};

// --slurm, --partition, --account, --time, --nodes, --remote, --remote-parm (the others need --slurm).
void add_slurm_options(CLI::App* cmd, SlurmOptions& options);

// What the job's own `parm run` is asked besides the config.
struct JobRunFlags {
  std::string db_path, gate_logits, dump_routing;
  bool verify = false, json = false, model = false;
  std::int64_t timeout_ms = 0;
  int die_on_rank = -1;
};

// Shared by the two ways: the option rules (one line, exit 2), the run flags as words, a job's file stem
// ("<config>-<YYYYmmdd-HHMMSS>").
void check_slurm_options(const Config& config, const SlurmOptions& slurm);
std::vector<std::string> job_run_flag_words(const JobRunFlags& run);
std::string job_stem(const Config& config);

// Writes, submits and follows the job; returns the exit code (0 when it completed and its run succeeded).
// Refuses bad options with one line and exit 2 (CLI::RuntimeError) before anything is written.
int submit_slurm_run(const Config& config, const SlurmOptions& slurm, const JobRunFlags& run, bool dry_run);

// The same from a desktop (slurm_remote.cpp): over ssh to `slurm.remote`, which runs `parm run --slurm` with
// the project on a folder both machines see at the same path (the run lands in the project as it is stored
// there). An unreachable host is one line, exit 1; Ctrl-C cancels the job over ssh (130 / 143).
int submit_remote_slurm_run(const Config& config, const SlurmOptions& slurm, const JobRunFlags& run,
                            bool dry_run);

}  // namespace parm::cli
