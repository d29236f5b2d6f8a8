// Subcommands of `parm`: each file adds one to the CLI11 app. Errors leave through CLI::RuntimeError(exit
// code) after a one-line message on stderr.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "engine/config.h"

namespace parm::cli {

void add_check_command(CLI::App& app);
void add_run_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_worker_command(CLI::App& app);     // one rank of `parm run`, under mpirun or srun
void add_cluster_command(CLI::App& app);    // emulated cluster of network namespaces
void add_db_commands(CLI::App& app);        // runs, show, export, import-nsys (cli_db.cpp)
void add_calibrate_command(CLI::App& app);  // calibrate and calibrate-worker (cli_calibrate.cpp)
void add_model_commands(CLI::App& app);     // predict, recommend, sweep (cli_predict.cpp)

// Loads and validates CONFIG (the embedded default preset when `path` is empty). Prints warnings to stderr;
// on any error prints one line per violated rule to stderr and throws CLI::RuntimeError(2).
Config load_config_or_exit(const std::string& path);

}  // namespace parm::cli
