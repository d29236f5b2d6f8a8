// Subcommands of `parm`: each file adds one to the CLI11 app. Errors leave through CLI::RuntimeError(exit
// code) after a one-line message on stderr.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "engine/cli/config_loading.h"
#include "engine/core/config.h"
#include "engine/core/run_result.h"
#include "engine/model/calibration.h"
#include "engine/model/recommendation.h"

namespace parm::cli {

void add_check_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_worker_command(CLI::App& app);     // one rank of `parm run`, under mpirun or srun
void add_cluster_command(CLI::App& app);    // emulated cluster of network namespaces
void add_db_commands(CLI::App& app);        // runs, show, export, import-nsys, merge (cli_db.cpp)
void add_calibrate_command(CLI::App& app);  // calibrate and calibrate-worker (cli_calibrate.cpp)
void add_model_commands(CLI::App& app);     // predict, recommend (cli_predict.cpp), sweep
void add_sweep_command(CLI::App& app);      // sweep (cli_sweep.cpp)
void add_diff_command(CLI::App& app);       // diff: two stored runs before/after (cli_diff.cpp)
void add_steps_command(CLI::App& app);      // steps: a run's fused-pipeline step timeline (cli_steps.cpp)

// How a distributed run is started (cli_run.cpp); `parm run` and `parm validate` share it.
struct RunLaunch {
  std::string hostfile;         // empty: every rank on this machine
  std::string cluster;          // emulated cluster name (parm cluster up), or empty
  std::string launcher;         // --launcher: auto (empty), mpirun or srun
  std::string db_path;          // the worker stores the traced run there when set
  std::int64_t timeout_ms = 0;  // 0: the worker's default
  bool verify = false;
  int die_on_rank = -1;
  bool pass_schedules = false;    // pass the config's schedules as --schedules
  std::string gate_logits_path;   // --gate-logits: the gate routes these logits (checked against the layer)
  std::string dump_routing_path;  // --dump-routing: rank 0 writes every schedule's routing here
  bool model = false;             // --model: whole-model training steps
  std::string who = "parm run";   // prefix of every message
};

// Runs `config` (already validated, layout applied) through mpirun and returns what rank 0 gathered. On any
// failure prints one line naming the cause and throws CLI::RuntimeError (1, or 2 for a bad --cluster).
RunResult launch_distributed_run(const Config& config, const RunLaunch& launch);

void add_validate_command(CLI::App& app);  // parm validate (cli_validate.cpp)

// For `parm validate` (cli_predict.cpp): the recommendation's reason for a configuration, over `space`.
std::string recommendation_reason(const Config& config, const Calibration& calib,
                                  const SelectionSpace& space);

}  // namespace parm::cli
