// `parm run CONFIG --slurm` (issue 20): the run as a Slurm batch job. Writes the effective config and an
// sbatch script into the project's slurm/ folder (beside --db, else the working directory), submits it
// (`--dry-run` prints it instead), follows the job (its state and Slurm's reason while it waits and runs, its
// output streamed), and ends with one line naming the job id and Slurm's final state. The job step is `parm
// run ... --launcher srun`, so the run's summary, --db storage and failure handling are a local run's.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

#include "engine/core/config.h"

namespace parm::cli {

struct SlurmOptions {
  bool submit = false;  // --slurm
  std::string partition, account, time_limit;
  std::int64_t nodes = 0;  // --nodes: 0 lets Slurm place the ranks
  bool requested() const { return submit; }
  bool any_given() const {
    return !partition.empty() || !account.empty() || !time_limit.empty() || nodes > 0;
  }
};

// --slurm, --partition, --account, --time, --nodes (the last four need --slurm).
void add_slurm_options(CLI::App* cmd, SlurmOptions& options);

// What the job's own `parm run` is asked besides the config.
struct JobRunFlags {
  std::string db_path, gate_logits, dump_routing;
  bool verify = false, json = false, model = false;
  std::int64_t timeout_ms = 0;
  int die_on_rank = -1;
};

// Writes, submits and follows the job; returns the exit code (0 when it completed and its run succeeded).
// Refuses bad options with one line and exit 2 (CLI::RuntimeError) before anything is written.
int submit_slurm_run(const Config& config, const SlurmOptions& slurm, const JobRunFlags& run, bool dry_run);

}  // namespace parm::cli
