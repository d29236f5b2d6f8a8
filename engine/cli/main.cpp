// `parm`: the headless front end of Parm Studio. Each subcommand lives in its own cli_*.cpp. Every argument
// error is one line, `parm SUBCOMMAND: ...`, and exit 2 (engine/cli/arg_rules.h).
#include <CLI/CLI.hpp>
#include <exception>
#include <iostream>

#include "db/database.h"
#include "engine/cli/arg_rules.h"
#include "engine/cli/commands.h"

namespace {

std::string prefix(CLI::App& app, int argc, const char* const* argv) {
  const std::string sub = parm::cli::subcommand_path(app, argc, argv);
  return sub.empty() ? "parm: " : "parm " + sub + ": ";
}

}  // namespace

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
  parm::cli::add_diff_command(app);
  parm::cli::add_steps_command(app);
  // A first word that is no subcommand and no option: name it and the known ones (CLI11 would say "A
  // subcommand is required" and exit 106).
  if (argc > 1 && argv[1][0] != '-') {
    const std::string word = argv[1];
    const auto named = app.get_subcommands([&](CLI::App* sub) { return sub->check_name(word); });
    if (named.empty()) {
      std::cerr << "parm: unknown subcommand '" << (word.size() > 40 ? word.substr(0, 37) + "..." : word)
                << "' (known: " << parm::cli::known_subcommands(app) << ")\n";
      return parm::cli::kArgumentErrorExit;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // the subcommand already printed its one-line reason
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    std::cerr << prefix(app, argc, argv) << parm::cli::argument_error_line(e, app, argc, argv) << '\n';
    return parm::cli::kArgumentErrorExit;
  } catch (const parm::db::DbError& e) {
    // A project that cannot be opened or is not ours is invalid input, whichever subcommand met it.
    std::cerr << prefix(app, argc, argv) << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << prefix(app, argc, argv) << e.what() << '\n';
    return 1;
  }
  return 0;
}
