// `parm calibrate CONFIG --ranks N ...`: micro-benchmarks on the layout's own communicators and of the
// compute kernels, in the manner of nccl-tests (spec style.md section 2: -b/-e/-f size sweep, -w warm-up, -n
// iterations, a #-commented table with units, algbw, busbw and #wrong: every size's output is checked, as
// nccl-tests -c 1, and a wrong element fails the calibration), alpha-beta fits with r^2 per (operation,
// communicator), and a measured interference factor. `parm calibrate` validates the layout and starts `parm
// calibrate-worker` under the same launcher as `parm run` (local ranks, --hostfile-free emulated --cluster);
// rank 0 writes the Calibration JSON (--out) and, with --db, stores the fits in the project database. The
// table goes to stdout, progress to stderr. The measuring itself is engine/calibrate; this file is arguments
// in, files and output out.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/backend/backend_availability.h"
#include "engine/calibrate/calibration_run.h"
#include "engine/calibrate/storage.h"
#include "engine/cli/arg_rules.h"
#include "engine/cli/backend_option.h"
#include "engine/cli/cli_support.h"
#include "engine/cli/commands.h"
#include "engine/cli/config_loading.h"
#include "engine/cli/db_option.h"
#include "engine/cli/launcher_option.h"
#include "engine/comm/mpi_world.h"
#include "engine/core/config_json.h"
#include "engine/core/rank_layout.h"
#include "engine/core/validation.h"
#include "engine/launch/cluster_launch.h"
#include "engine/launch/launcher.h"
#include "engine/launch/process_watch.h"
#include "engine/launch/run_folder.h"

namespace parm::cli {
namespace {

constexpr std::int64_t kMaxBytes = std::int64_t(1)
                                   << 40;  // calibrate-worker sizes: 1 TiB is beyond any sweep

// "64K", "16M", "1G" (powers of 1024, as nccl-tests) or a plain byte count.
std::optional<std::int64_t> parse_size(const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::size_t used = 0;
  double v = 0;
  try {
    v = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::string suffix = text.substr(used);
  double scale = 1;
  if (suffix == "K" || suffix == "k")
    scale = 1024.0;
  else if (suffix == "M" || suffix == "m")
    scale = 1024.0 * 1024;
  else if (suffix == "G" || suffix == "g")
    scale = 1024.0 * 1024 * 1024;
  else if (!suffix.empty() && suffix != "B" && suffix != "b")
    return std::nullopt;
  const double bytes = v * scale;
  if (!(bytes >= 1) || bytes > 4.0 * 1024 * 1024 * 1024) return std::nullopt;
  return static_cast<std::int64_t>(bytes);
}

// ---------------------------------------------------------------------------------------------------------
// The worker: one rank.

struct WorkerArgs {
  std::string config_path;
  std::string out_path;    // --result: rank 0 writes the Calibration JSON here
  std::string table_path;  // rank 0 writes the nccl-tests-style table here (the parent prints it)
  std::string db_path;
  calibrate::CalibrationOptions options;
};

void run_calibrate_worker(const WorkerArgs& a) {
  const comm::MpiWorld mpi;  // finalises MPI on every way out
  exit_when_orphaned(1);     // a killed `parm calibrate` leaves no rank behind
  Config config;
  const std::vector<std::string> problems =
      load_rank_config(a.config_path, mpi.size(), MachineLimits::this_machine(), nullptr, config);
  agree_or_exit(problems, mpi);

  try {
    const RankLayout layout = make_rank_layout(config, mpi.rank());
    calibrate::CalibrationOutcome outcome = calibrate::run_calibration(config, layout, mpi, a.options);
    if (mpi.rank() == 0) {
      outcome.calibration.host = host_name();
      save_calibration_file(outcome.calibration, a.out_path);
      {
        std::ofstream t(a.table_path, std::ios::trunc);
        t << outcome.table;
      }
      if (!a.db_path.empty()) {
        if (launcher_gone()) throw std::runtime_error("the launching parm is gone; nothing is stored");
        const calibrate::StoredCalibration stored =
            calibrate::store_calibration(a.db_path, config, outcome.calibration, mpi.size());
        std::cerr << "parm calibrate: stored " << stored.fits << " fits as run " << stored.run << " in "
                  << a.db_path << '\n';
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "parm worker: rank " << mpi.rank() << ": " << e.what() << std::endl;
    mpi.abort(3);
  }
}

// ---------------------------------------------------------------------------------------------------------
// The command.

struct CalibrateArgs {
  std::string path;
  std::int64_t ranks = 0;
  std::int64_t gpus_per_node = 0;
  std::string cluster;
  std::string launcher;
  std::string db_path;
  std::string out = "calibration.json";
  bool quick = false;
  std::string begin = "64K", end = "16M";
  double factor = 4;
  int iters = 0;    // 0: 20, quick 5
  int warmup = -1;  // -1: 5, quick 1
  bool json = false;
  std::int64_t timeout_ms = 60'000;
  std::string backend;  // --backend, empty: run.backend
};

void run_calibrate(const CalibrateArgs& a) {
  require_storable_db("calibrate", a.db_path);
  const auto b = parse_size(a.begin), e = parse_size(a.end);
  if (!b) refuse_line("parm calibrate: -b " + a.begin + ": not a size (e.g. 64K, 16M)");
  if (!e) refuse_line("parm calibrate: -e " + a.end + ": not a size (e.g. 64K, 16M)");
  if (*e < *b) refuse_line("parm calibrate: -e must not be below -b");
  if (!(a.factor > 1)) refuse_line("parm calibrate: -f must be above 1");
  std::string source;
  Config c = load_unvalidated_or_exit(a.path, source);
  if (a.ranks > 0) c.parallel.ranks = a.ranks;
  if (a.gpus_per_node > 0) c.parallel.gpus_per_node = a.gpus_per_node;
  apply_backend_override(a.backend, c);
  std::optional<cluster::ClusterState> cl;
  if (!a.cluster.empty()) {
    try {
      cluster::check_name(a.cluster);
      cl = cluster::require_cluster(a.cluster);
    } catch (const cluster::ClusterError& err) {
      refuse_line(std::string("parm calibrate: --cluster: ") + err.what(), 1);
    }
    const std::int64_t g = cl->spec.ranks_per_node;
    if (a.gpus_per_node > 0 && a.gpus_per_node != g)
      refuse_line("parm calibrate: --gpus-per-node " + std::to_string(a.gpus_per_node) +
                  " does not match cluster '" + a.cluster + "' (" + std::to_string(g) + " ranks per node)");
    c.parallel.gpus_per_node = g;
  }
  validate_or_exit(c, source, MachineLimits::this_machine());
  // Every family times the backend's own ops (NCCL and cuBLAS on cuda): a backend this build lacks is refused
  // before any rank starts.
  if (const auto why = backend_unavailable(c.run.backend)) refuse_line("parm calibrate: " + *why);
  if (c.parallel.ranks < 2) refuse_line("parm calibrate: needs at least 2 ranks (--ranks N)");

  const int iters = a.iters > 0 ? a.iters : (a.quick ? 10 : 20);
  const int warmup = a.warmup >= 0 ? a.warmup : (a.quick ? 2 : 5);
  const EnvLookup env = process_env();
  std::unique_ptr<RunFolder> dir;
  try {
    dir = std::make_unique<RunFolder>(std::filesystem::temp_directory_path(), "parm-calibrate");
  } catch (const std::exception& err) {
    refuse_line(std::string("parm calibrate: ") + err.what(), 1);
  }
  const std::string config_path = (dir->path() / "config.json").string();
  const std::string table_path = (dir->path() / "table.txt").string();
  const std::string out_path = std::filesystem::absolute(a.out).string();
  save_config_file(c, config_path);

  LaunchOptions o;
  o.ranks = static_cast<int>(c.parallel.ranks);
  o.parm_exe = self_executable();
  o.config_path = config_path;
  o.result_path = out_path;
  o.subcommand = "calibrate-worker";
  o.db_path = a.db_path.empty() ? "" : std::filesystem::absolute(a.db_path).string();
  o.extra_args = {"--table",      table_path,
                  "--begin",      std::to_string(*b),
                  "--end",        std::to_string(*e),
                  "--factor",     std::to_string(a.factor),
                  "--iters",      std::to_string(iters),
                  "--warmup",     std::to_string(warmup),
                  "--timeout-ms", std::to_string(a.timeout_ms)};
  if (a.quick) o.extra_args.push_back("--quick");
  if (!a.cluster.empty()) o.extra_args.insert(o.extra_args.end(), {"--cluster-name", a.cluster});
  if (cl) {
    try {
      cluster::apply_cluster(*cl, o);
    } catch (const cluster::ClusterError& err) {
      refuse_line(std::string("parm calibrate: --cluster: ") + err.what());
    }
  }
  apply_launcher(a.launcher, env, o, "parm calibrate", cl.has_value());
  const LaunchCommand command = build_launch_command(o, env, ::geteuid() == 0);
  std::cerr << "parm calibrate: starting " << c.parallel.ranks << " ranks (" << c.parallel.nodes() << " x "
            << c.parallel.gpus_per_node << ") with " << o.mpiexec
            << (a.cluster.empty() ? std::string() : " on emulated cluster " + a.cluster) << '\n';
  const LaunchOutcome outcome =
      run_launch(command, std::chrono::minutes(a.quick ? 5 : 30), dir->path().string());
  if (outcome.exit_code != 0 || outcome.timed_out || outcome.signal != 0)
    refuse_line(failure_line(outcome, "parm calibrate"), failure_exit_code(outcome));

  Calibration cal;
  try {
    cal = load_calibration_file(out_path);
  } catch (const std::exception& err) {
    refuse_line(std::string("parm calibrate: ") + err.what(), 1);
  }
  if (a.json) {
    std::cout << to_json(cal).dump(2) << '\n';
  } else {
    std::ifstream t(table_path);
    std::cout << t.rdbuf();
    std::cout << "# calibration " << cal.id << " written to " << out_path << '\n';
  }
}

}  // namespace

void add_calibrate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("calibrate",
                                 "Measure the layout's collectives on every communicator and the compute "
                                 "kernels (nccl-tests style sweep, each collective's data checked: #wrong) "
                                 "and fit alpha-beta costs");
  auto a = std::make_shared<CalibrateArgs>();
  cmd->add_option("config", a->path, "configuration JSON file or embedded preset name (default: 'default')");
  cmd->add_option("--ranks", a->ranks, "number of ranks P (overrides parallel.ranks)")->check(integer_in(1));
  add_backend_option(cmd, a->backend);
  add_launcher_option(cmd, a->launcher);
  cmd->add_option("--gpus-per-node", a->gpus_per_node, "ranks per node G (overrides parallel.gpus_per_node)")
      ->check(integer_in(1));
  cmd->add_option("--cluster", a->cluster, "calibrate on the emulated cluster NAME (parm cluster up)");
  cmd->add_option("--db", a->db_path, "SQLite project file: store the fits (calibrations table)")
      ->check(db_path_check("calibrate"));
  cmd->add_option("--out", a->out, "where to write the calibration JSON (default calibration.json)")
      ->check(not_a_database_check("calibrate", "--out"));
  cmd->add_flag("--quick", a->quick,
                "3 sizes, fewer iterations, and only the communicators the cost model reads (seconds)");
  cmd->add_option("-b,--minbytes", a->begin, "smallest message size (default 64K)");
  cmd->add_option("-e,--maxbytes", a->end, "largest message size (default 16M)");
  cmd->add_option("-f,--stepfactor", a->factor, "size multiplication factor (default 4)")
      ->check(number_above(1));
  cmd->add_option("-n,--iters", a->iters, "timed iterations per size (default 20, quick 10)")
      ->check(integer_in(1));
  cmd->add_option("-w,--warmup_iters", a->warmup, "warm-up iterations per size (default 5, quick 2)")
      ->check(integer_in(0));
  cmd->add_option("--timeout-ms", a->timeout_ms, "bound on every collective wait, in ms (default 60000)")
      ->check(integer_in(1));
  cmd->add_flag("--json", a->json, "print the calibration JSON instead of the table");
  cmd->callback([a] { run_calibrate(*a); });

  auto* w =
      app.add_subcommand("calibrate-worker", "One rank of `parm calibrate` (started by it under mpirun)");
  w->group("Cluster");
  auto wa = std::make_shared<WorkerArgs>();
  w->add_option("--config", wa->config_path, "configuration JSON file (parallel.ranks = world size)")
      ->required();
  w->add_option("--result", wa->out_path, "where rank 0 writes the calibration JSON")->required();
  w->add_option("--table", wa->table_path, "where rank 0 writes the table")
      ->required()
      ->check(not_a_database_check("calibrate-worker", "--table"));
  w->add_option("--db", wa->db_path, "SQLite project file: rank 0 stores the fits")
      ->check(db_path_check("calibrate-worker"));
  w->add_option("--cluster-name", wa->options.cluster, "emulated cluster name recorded in the calibration");
  w->add_option("--begin", wa->options.sweep.begin, "smallest size in bytes")
      ->check(integer_in(1, kMaxBytes));
  w->add_option("--end", wa->options.sweep.end, "largest size in bytes")->check(integer_in(1, kMaxBytes));
  w->add_option("--factor", wa->options.sweep.factor, "size factor")->check(number_above(1));
  w->add_option("--iters", wa->options.sweep.iters, "timed iterations")->check(integer_in(1));
  w->add_option("--warmup", wa->options.sweep.warmup, "warm-up iterations")->check(integer_in(0));
  w->add_option("--timeout-ms", wa->options.timeout_ms, "bound on every collective wait, in ms")
      ->check(integer_in(1));
  w->add_flag("--quick", wa->options.sweep.quick, "3 sizes");
  w->callback([wa] { run_calibrate_worker(*wa); });
}

}  // namespace parm::cli
