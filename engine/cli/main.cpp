// `parm`: the headless front end of Parm Studio. Each subcommand lives in its own cli_*.cpp.
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "engine/cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "parm: run, measure and model MoE communication schedules (DeepSpeed-MoE baselines, Parm S1/S2)"};
  app.set_version_flag("--version", "parm 0.1.0");
  app.require_subcommand(1);
  parm::cli::add_check_command(app);
  parm::cli::add_run_command(app);
  parm::cli::add_bench_command(app);
  parm::cli::add_worker_command(app);
  parm::cli::add_cluster_command(app);
  parm::cli::add_db_commands(app);
  parm::cli::add_calibrate_command(app);
  parm::cli::add_model_commands(app);
  parm::cli::add_validate_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // the subcommand already printed its one-line reason
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const std::exception& e) {
    std::cerr << "parm: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
