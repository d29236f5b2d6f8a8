// `parm run [CONFIG] --ranks N [--json]`: run the layer forward and backward and report times.
// One rank (and no other layout option) times the single-process reference layer per phase (spec section 8);
// more ranks start `parm worker` under mpirun and report every schedule's fwd/bwd/total and speedup vs B_DS.
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "engine/backend/backend_availability.h"
#include "engine/cli/arg_rules.h"
#include "engine/cli/backend_option.h"
#include "engine/cli/cli_support.h"
#include "engine/cli/commands.h"
#include "engine/cli/db_option.h"
#include "engine/cli/distributed_report.h"
#include "engine/cli/launcher_option.h"
#include "engine/cli/run_model.h"
#include "engine/cli/slurm_submit.h"
#include "engine/cli/summary_table.h"
#include "engine/cli/verify_table.h"
#include "engine/core/config_json.h"
#include "engine/core/rank_devices.h"
#include "engine/core/run_result.h"
#include "engine/core/validation.h"
#include "engine/launch/cluster_launch.h"
#include "engine/launch/launcher.h"
#include "engine/launch/launcher_choice.h"
#include "engine/launch/run_folder.h"
#include "engine/reference/reference_layer.h"
#include "engine/run/gate_logits.h"
#include "profiler/phase_timer.h"
#include "resources/presets.h"

namespace parm::cli {
namespace {

struct PhaseSpec {
  const char* name;
  const char* direction;
};
constexpr PhaseSpec kPhases[] = {{"gate", "fwd"},      {"order", "fwd"},       {"experts", "fwd"},
                                 {"combine", "fwd"},   {"combine_bwd", "bwd"}, {"experts_bwd", "bwd"},
                                 {"order_bwd", "bwd"}, {"gate_bwd", "bwd"}};

struct PhaseRow {
  std::string name;
  std::string direction;
  double median_ms = 0;
};

struct RunReport {
  std::int64_t groups = 1;
  std::int64_t capacity = 0;
  std::int64_t warmup = 0;
  std::int64_t iterations = 0;
  std::vector<PhaseRow> phases;
  double forward_ms = 0;   // median over iterations of the summed forward phases
  double backward_ms = 0;  // same for the backward phases
  double layer_ms = 0;     // median wall time of a whole forward + backward call
  std::int64_t choices = 0;
  std::int64_t dropped_choices = 0;
  std::int64_t tokens = 0;
  std::int64_t dropped_tokens = 0;
};

template <typename T>
RunReport time_reference_layer(const Config& c, std::int64_t groups) {
  const LayerConfig& l = c.layer;
  const LayerWeights<T> w = make_weights<T>(l, c.run.seed);
  const std::vector<T> x = make_input<T>(l, groups, c.run.seed);
  const std::vector<T> dout = make_output_grad<T>(l, groups, c.run.seed);

  RunReport rep;
  rep.groups = groups;
  rep.warmup = std::max<std::int64_t>(0, c.run.warmup);
  rep.iterations = std::max<std::int64_t>(1, c.run.iterations);
  profiler::PhaseTimer timer;
  std::vector<double> layer_s;
  ReferenceResult<T> last;
  for (std::int64_t i = 0; i < rep.warmup + rep.iterations; ++i) {
    const bool measured = i >= rep.warmup;  // warm-up iterations are run untimed
    if (measured) timer.begin_iteration();
    const auto start = profiler::Clock::now();
    last = run_reference_layer<T>(l, groups, w, x, dout, measured ? &timer : nullptr);
    if (measured) layer_s.push_back(std::chrono::duration<double>(profiler::Clock::now() - start).count());
  }

  // Every phase records once per iteration, so sample i of each phase belongs to iteration i.
  std::vector<double> fwd_s(layer_s.size(), 0.0), bwd_s(layer_s.size(), 0.0);
  for (const PhaseSpec& spec : kPhases) {
    rep.phases.push_back({spec.name, spec.direction, 1e3 * timer.median_seconds(spec.name)});
    for (const auto& p : timer.phases()) {
      if (p.name != spec.name) continue;
      auto& sums = std::string(spec.direction) == "fwd" ? fwd_s : bwd_s;
      for (std::size_t it = 0; it < p.seconds.size() && it < sums.size(); ++it) sums[it] += p.seconds[it];
    }
  }
  rep.forward_ms = 1e3 * profiler::median(fwd_s);
  rep.backward_ms = 1e3 * profiler::median(bwd_s);
  rep.layer_ms = 1e3 * profiler::median(layer_s);
  rep.capacity = last.capacity;
  for (const auto& r : last.routing) {
    rep.choices += r.tokens * r.top_k;
    rep.dropped_choices += kernels::cpu::dropped_choices(r);
    rep.tokens += r.tokens;
    rep.dropped_tokens += kernels::cpu::dropped_tokens(r);
  }
  return rep;
}

double share(double part, double whole) {
  return whole > 0 ? part / whole : 0.0;
}

void print_text(const Config& c, const RunReport& r) {
  const LayerConfig& l = c.layer;
  std::printf("parm run: config %s, 1 rank, reference engine on cpu (%s)\n", c.name.c_str(),
              std::string(to_string(l.dtype)).c_str());
  std::printf("layer: S=%lld M=%lld H=%lld E=%lld k=%lld f=%g %s%s, %s; groups %lld, capacity %lld\n",
              (long long)l.tokens(), (long long)l.hidden, (long long)l.ffn_hidden, (long long)l.num_experts,
              (long long)l.top_k, l.capacity_factor, std::string(to_string(l.activation)).c_str(),
              l.bias ? "+bias" : "", l.drop_tokens ? "drop tokens" : "no drop (capacity = largest load)",
              (long long)r.groups, (long long)r.capacity);
  std::printf("%lld warm-up + %lld measured iterations, medians\n\n", (long long)r.warmup,
              (long long)r.iterations);
  std::printf("%-12s %-4s %12s %8s\n", "phase", "dir", "median ms", "share");
  for (const PhaseRow& p : r.phases)
    std::printf("%-12s %-4s %12.4f %7.1f%%\n", p.name.c_str(), p.direction.c_str(), p.median_ms,
                100.0 * share(p.median_ms, r.layer_ms));
  std::printf("%-12s %-4s %12.4f %7.1f%%\n", "forward", "fwd", r.forward_ms,
              100.0 * share(r.forward_ms, r.layer_ms));
  std::printf("%-12s %-4s %12.4f %7.1f%%\n", "backward", "bwd", r.backward_ms,
              100.0 * share(r.backward_ms, r.layer_ms));
  // What the phases do not cover: allocating and zeroing buffers, freeing the previous result.
  const double untimed_ms = std::max(0.0, r.layer_ms - r.forward_ms - r.backward_ms);
  std::printf("%-12s %-4s %12.4f %7.1f%%  (buffer setup and teardown)\n", "untimed", "", untimed_ms,
              100.0 * share(untimed_ms, r.layer_ms));
  std::printf("%-12s %-4s %12.4f %7.1f%%  (wall time of one forward + backward call)\n", "layer", "",
              r.layer_ms, 100.0);
  std::printf("\ndropped: %lld of %lld choices (%.2f%%); %lld of %lld tokens lost every choice\n",
              (long long)r.dropped_choices, (long long)r.choices,
              100.0 * share(double(r.dropped_choices), double(r.choices)), (long long)r.dropped_tokens,
              (long long)r.tokens);
}

nlohmann::json to_json(const Config& c, const RunReport& r) {
  nlohmann::json phases = nlohmann::json::array();
  for (const PhaseRow& p : r.phases)
    phases.push_back({{"name", p.name},
                      {"direction", p.direction},
                      {"median_ms", p.median_ms},
                      {"share", share(p.median_ms, r.layer_ms)}});
  return {{"config", c.name},
          {"ranks", 1},
          {"engine", "reference"},
          {"backend", "cpu"},
          {"dtype", to_string(c.layer.dtype)},
          {"groups", r.groups},
          {"capacity", r.capacity},
          {"warmup", r.warmup},
          {"iterations", r.iterations},
          {"phases", phases},
          {"forward_ms", r.forward_ms},
          {"backward_ms", r.backward_ms},
          {"layer_ms", r.layer_ms},
          {"untimed_ms", std::max(0.0, r.layer_ms - r.forward_ms - r.backward_ms)},
          {"choices", r.choices},
          {"dropped_choices", r.dropped_choices},
          {"tokens", r.tokens},
          {"dropped_tokens", r.dropped_tokens}};
}

struct RunArgs {
  std::string path;
  std::int64_t ranks = 0;          // 0: config.parallel.ranks
  std::int64_t gpus_per_node = 0;  // 0: config.parallel.gpus_per_node
  std::vector<std::string> schedules;
  std::string hostfile;
  std::string cluster;   // emulated cluster name (parm cluster up)
  std::string launcher;  // --launcher auto|mpirun|srun
  SlurmOptions slurm;    // --slurm and its options: submit as a batch job (slurm_submit.h)
  bool dry_run = false;
  bool json = false;
  bool verify = false;
  bool model = false;           // --model: whole-model steps
  std::int64_t timeout_ms = 0;  // 0: the worker's default
  int die_on_rank = -1;
  std::string db_path;
  std::string backend;       // --backend, empty: run.backend
  std::string gate_logits;   // --gate-logits FILE
  std::string dump_routing;  // --dump-routing FILE

  // Anything beyond a rank count asks for the distributed engine, even on one rank.
  bool layout_given() const {
    return gpus_per_node > 0 || !schedules.empty() || !hostfile.empty() || dry_run || verify ||
           die_on_rank >= 0 || timeout_ms > 0 || !db_path.empty() || !cluster.empty() ||
           !gate_logits.empty() || !dump_routing.empty() || model || !launcher.empty() || slurm.requested();
  }
};

// The emulated cluster named by --cluster (nullopt without it); refuses when it is not up.
std::optional<cluster::ClusterState> cluster_of(const RunArgs& a) {
  if (a.cluster.empty()) return std::nullopt;
  try {
    cluster::check_name(a.cluster);
    return cluster::require_cluster(a.cluster);
  } catch (const cluster::ClusterError& e) {
    refuse_line(std::string("parm run: --cluster: ") + e.what(), 1);
  }
}

// --gate-logits and --dump-routing are checked here, before any rank starts: the logits' shape against the
// layer, the dump's folder, and the one combination refused (--verify's reference computes its own logits).
void check_routing_options(const RunArgs& a, const Config& c) {
  if (!a.gate_logits.empty()) {
    if (a.verify)
      refuse_line(
          "parm run: --verify with --gate-logits: the reference layer computes its own logits (x*Wg); "
          "run them apart");
    try {
      read_gate_logits(a.gate_logits, c.parallel.mp_groups(), c.layer.tokens(), c.layer.num_experts);
    } catch (const GateLogitsError& e) {
      refuse_line(std::string("parm run: --gate-logits ") + e.what());
    }
  }
  if (!a.dump_routing.empty()) {
    const std::filesystem::path folder = std::filesystem::absolute(a.dump_routing).parent_path();
    if (!std::filesystem::is_directory(folder))
      refuse_line("parm run: --dump-routing " + a.dump_routing + ": no folder " + folder.string());
    if (std::filesystem::is_directory(a.dump_routing))
      refuse_line("parm run: --dump-routing " + a.dump_routing + ": is a directory, not a file");
  }
}

// Applies the command-line layout to the configuration and validates the result; nothing runs on errors.
Config effective_config(const RunArgs& a) {
  std::string source;
  Config c = load_unvalidated_or_exit(a.path, source);
  if (a.ranks > 0) c.parallel.ranks = a.ranks;
  if (a.gpus_per_node > 0) c.parallel.gpus_per_node = a.gpus_per_node;
  apply_backend_override(a.backend, c);
  if (const auto cl = cluster_of(a)) {  // the cluster's nodes are the layout's nodes
    const std::int64_t g = cl->spec.ranks_per_node;
    if (a.gpus_per_node > 0 && a.gpus_per_node != g)
      refuse_line("parm run: --gpus-per-node " + std::to_string(a.gpus_per_node) +
                  " does not match cluster '" + a.cluster + "' (" + std::to_string(g) + " ranks per node)");
    c.parallel.gpus_per_node = g;
  }
  if (!a.schedules.empty()) {
    c.run.schedules.clear();
    for (const std::string& name : a.schedules) {
      const auto kind = parse_schedule(name);
      if (!kind)
        refuse_line("parm run: --schedules: unknown schedule '" + name +
                    "' (one of B_DS,B_DS2,B0,S1,S1F,S2,S2F)");
      c.run.schedules.push_back(*kind);
    }
  }
  MachineLimits machine = MachineLimits::this_machine();
  if (!a.hostfile.empty() || a.slurm.requested())
    machine.ranks_per_host = c.parallel.gpus_per_node;  // G ranks on each host
  // Never a CPU run under a cuda label: refused before mpirun starts, and before a dry run prints its line;
  // first, in one line, since no layout can make a missing backend run.
  // A submitted job checks its devices where it runs (the login host may have none): here only the build.
  if (c.run.backend != Backend::Cpu) {
    CudaAvailability cuda = probe_cuda();
    if (a.slurm.requested() && cuda.built && cuda.engine_built) cuda.devices = std::max(cuda.devices, 1);
    if (const auto why = backend_unavailable(c.run.backend, cuda)) refuse_line("parm run: " + *why);
  }
  validate_or_exit(c, source, machine);
  if (a.model)
    check_model_run(c, a.verify, !a.gate_logits.empty() || !a.dump_routing.empty());
  else
    note_model_layer(c, "parm run");
  if (a.die_on_rank >= c.parallel.ranks)
    refuse_line("parm run: --die-on-rank " + std::to_string(a.die_on_rank) + ": must be below ranks (" +
                std::to_string(c.parallel.ranks) + ")");
  if (!a.hostfile.empty() && !std::filesystem::exists(a.hostfile))
    refuse_line("parm run: --hostfile " + a.hostfile + ": no such file");
  check_routing_options(a, c);
  return c;
}

bool unchanged_file(const std::string& path, const Config& effective) {
  if (path.empty() || !std::filesystem::is_regular_file(path)) return false;
  const ConfigLoad load = load_config_file(path);
  return load.config && config_to_json(*load.config) == config_to_json(effective);
}

// A private folder for the effective config and the result, removed on every way out unless kept.
std::unique_ptr<RunFolder> run_folder(const std::filesystem::path& parent, const std::string& who) {
  try {
    return std::make_unique<RunFolder>(parent, "parm-run");
  } catch (const std::exception& e) {
    refuse_line(who + ": " + e.what(), 1);
  }
}

// Bounds the whole run even if every collective keeps making progress too slowly to time out.
std::chrono::milliseconds overall_deadline(const Config& c, std::int64_t timeout_ms) {
  const std::int64_t per_wait = timeout_ms > 0 ? timeout_ms : 60'000;
  const std::int64_t steps =
      std::max<std::int64_t>(0, c.run.warmup) + std::max<std::int64_t>(1, c.run.iterations) + 2;
  const std::int64_t schedules = std::max<std::size_t>(1, c.run.schedules.size());
  return std::chrono::milliseconds(std::max<std::int64_t>(60'000, per_wait * steps * schedules));
}

LaunchOptions launch_options(const Config& c, const RunLaunch& l, const EnvLookup& env,
                             const std::string& config_path, const std::string& result_path,
                             bool dry_run = false) {
  LaunchOptions o;
  o.ranks = static_cast<int>(c.parallel.ranks);
  o.hostfile = l.hostfile.empty() ? "" : std::filesystem::absolute(l.hostfile).string();
  o.parm_exe = self_executable();
  o.config_path = config_path;
  o.result_path = result_path;
  if (l.pass_schedules) o.schedules = c.run.schedules;
  o.timeout_ms = l.timeout_ms;
  o.verify = l.verify;
  o.die_on_rank = l.die_on_rank;
  o.db_path = l.db_path.empty() ? "" : std::filesystem::absolute(l.db_path).string();
  if (!l.gate_logits_path.empty())
    o.extra_args.insert(o.extra_args.end(),
                        {"--gate-logits", std::filesystem::absolute(l.gate_logits_path).string()});
  if (!l.dump_routing_path.empty())
    o.extra_args.insert(o.extra_args.end(),
                        {"--dump-routing", std::filesystem::absolute(l.dump_routing_path).string()});
  if (l.model) o.extra_args.push_back("--model");
  if (!l.cluster.empty()) {
    try {
      cluster::check_name(l.cluster);
      cluster::apply_cluster(cluster::require_cluster(l.cluster), o);
    } catch (const cluster::ClusterError& e) {
      refuse_line(l.who + ": --cluster: " + e.what());
    }
  }
  apply_launcher(l.launcher, env, o, l.who, !l.cluster.empty(), dry_run);
  return o;
}

// Multi-node runs (a hostfile, or srun on an allocation's nodes) need the files on a shared filesystem: the
// working directory usually is, /tmp is not.
std::filesystem::path run_parent(const RunLaunch& l, const EnvLookup& env) {
  const bool remote =
      !l.hostfile.empty() ||
      choose_launcher(
          parse_launcher(l.launcher.empty() ? "auto" : l.launcher).value_or(LauncherRequest::Auto), env,
          false, !l.cluster.empty())
              .launcher == Launcher::Srun;
  return remote ? std::filesystem::current_path() : std::filesystem::temp_directory_path();
}

RunLaunch launch_of(const RunArgs& a) {
  RunLaunch l;
  l.hostfile = a.hostfile;
  l.cluster = a.cluster;
  l.launcher = a.launcher;
  l.db_path = a.db_path;
  l.timeout_ms = a.timeout_ms;
  l.verify = a.verify;
  l.die_on_rank = a.die_on_rank;
  l.pass_schedules = !a.schedules.empty();
  l.gate_logits_path = a.gate_logits;
  l.dump_routing_path = a.dump_routing;
  l.model = a.model;
  return l;
}

void run_distributed(const RunArgs& a) {
  if (a.slurm.requested() && (!a.cluster.empty() || !a.hostfile.empty() || !a.launcher.empty()))
    refuse_line(
        "parm run: --slurm places the ranks with srun inside its job: --cluster, --hostfile and --launcher "
        "do not apply");
  const Config c = effective_config(a);
  if (a.slurm.requested()) {
    const JobRunFlags f{a.db_path, a.gate_logits, a.dump_routing, a.verify,
                        a.json,    a.model,       a.timeout_ms,   a.die_on_rank};
    const int code = a.slurm.remote.empty() ? submit_slurm_run(c, a.slurm, f, a.dry_run)
                                            : submit_remote_slurm_run(c, a.slurm, f, a.dry_run);
    if (code != 0) throw CLI::RuntimeError(code);
    return;
  }
  if (!a.dry_run) {
    const RunResult result = launch_distributed_run(c, launch_of(a));
    const std::vector<ScheduleSummary> rows = summarize(result);
    if (a.json)
      std::cout << distributed_json(result, rows).dump(2) << '\n';
    else
      print_distributed_text(result, rows);
    // A schedule off the reference (or with an invalid routing): named with its tensor or rule, exit 1.
    const std::vector<std::string> failures = verify_failures(verify_reports(result));
    if (!failures.empty()) {
      std::cout.flush();
      std::fflush(stdout);
      for (std::size_t i = 0; i + 1 < failures.size(); ++i)
        std::cerr << "parm run: --verify: " << failures[i] << '\n';
      refuse_line("parm run: --verify: " + failures.back(), 1);
    }
    return;
  }
  const EnvLookup env = process_env();
  // Multi-node runs need the files on a shared filesystem: the working directory usually is, /tmp is not.
  const auto dir = run_folder(run_parent(launch_of(a), env), "parm run");
  std::string config_path = (dir->path() / "config.json").string();
  // A dry run's line is run later by hand: its result goes to the working directory, not our temp dir.
  const std::string result_path = (std::filesystem::current_path() / (c.name + ".result.json")).string();
  // A dry run names the user's own file when the command line changed nothing, so nothing is left behind.
  const bool reuse_file = unchanged_file(a.path, c);
  if (reuse_file)
    config_path = std::filesystem::absolute(a.path).string();
  else
    save_config_file(c, config_path);
  const LaunchOptions o = launch_options(c, launch_of(a), env, config_path, result_path, true);
  const LaunchCommand command = build_launch_command(o, env, ::geteuid() == 0);
  std::cout << shell_line(command) << '\n';
  if (!reuse_file) {
    dir->keep();  // the printed line names the config written there
    std::cerr << "parm run: dry run; effective config kept at " << config_path << '\n';
  }
}

void run_reference(const RunArgs& a) {
  std::string source;
  Config c = load_unvalidated_or_exit(a.path, source);
  apply_backend_override(a.backend, c);
  validate_or_exit(c, source, MachineLimits::this_machine());
  if (const auto why = backend_unavailable(c.run.backend)) refuse_line("parm run: " + *why);
  // One rank holds one MP group's S tokens.
  RunReport report;
  switch (c.layer.dtype) {
    case DType::Fp32:
      report = time_reference_layer<float>(c, 1);
      break;
    case DType::Fp64:
      report = time_reference_layer<double>(c, 1);
      break;
    default:
      std::cerr << "parm run: dtype " << to_string(c.layer.dtype)
                << " is not supported by the cpu reference\n";
      throw CLI::RuntimeError(2);
  }
  if (a.json)
    std::cout << to_json(c, report).dump(2) << '\n';
  else
    print_text(c, report);
}

}  // namespace

RunResult launch_distributed_run(const Config& c, const RunLaunch& l) {
  if (const auto why = backend_unavailable(c.run.backend)) refuse_line(l.who + ": " + *why);
  // A run that could not be stored is refused before any rank starts (exit 2, as in every subcommand).
  require_storable_db(l.who.substr(l.who.find(' ') + 1), l.db_path);
  const EnvLookup env = process_env();
  const auto dir = run_folder(run_parent(l, env), l.who);
  const std::string config_path = (dir->path() / "config.json").string();
  const std::string result_path = (dir->path() / "result.json").string();
  save_config_file(c, config_path);
  const LaunchOptions o = launch_options(c, l, env, config_path, result_path);
  const LaunchCommand command = build_launch_command(o, env, ::geteuid() == 0);

  std::cerr << l.who << ": starting " << c.parallel.ranks << " ranks (" << c.parallel.nodes() << " x "
            << c.parallel.gpus_per_node << ") with " << o.mpiexec
            << (l.cluster.empty() ? std::string() : " on emulated cluster " + l.cluster)
            << (o.launcher == Launcher::Srun ? " in Slurm job " + env("SLURM_JOB_ID").value_or("(new)") : "")
            << '\n';
  const LaunchOutcome outcome = run_launch(command, overall_deadline(c, l.timeout_ms), dir->path().string());
  if (outcome.exit_code != 0 || outcome.timed_out || outcome.signal != 0)
    refuse_line(failure_line(outcome, l.who), failure_exit_code(outcome));

  std::ifstream in(result_path);
  if (const std::string why = launcher_error_line(outcome.tail); !in)
    refuse_line(l.who + ": the ranks exited 0 but wrote no result at " + result_path +
                    (why.empty() ? "" : " (" + why + ")"),
                1);
  try {
    return run_result_from_json(nlohmann::json::parse(in));
  } catch (const std::exception& e) {
    refuse_line(l.who + ": " + e.what(), 1);
  }
}

void add_run_command(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "run",
      "Run the MoE layer forward and backward. --ranks 1: the single-process reference, per-phase medians. "
      "More ranks: every schedule through mpirun, fwd/bwd/total per iteration and speedup vs B_DS");
  auto a = std::make_shared<RunArgs>();
  cmd->add_option("config", a->path,
                  "configuration JSON file or embedded preset name (default: embedded default)");
  cmd->add_option("--ranks", a->ranks, "number of ranks (default: parallel.ranks; 1: reference layer)")
      ->check(integer_in(1));
  cmd->add_option("--gpus-per-node", a->gpus_per_node, "ranks per node G (overrides parallel.gpus_per_node)")
      ->check(integer_in(1));
  cmd->add_option("--schedules", a->schedules, "comma-separated schedules (default: run.schedules)")
      ->delimiter(',');
  cmd->add_option("--hostfile", a->hostfile,
                  "mpirun hostfile for multi-node runs (files go in the working dir)");
  cmd->add_option(
         "--cluster", a->cluster,
         "run on the emulated cluster NAME (parm cluster up): mpirun in its first node, TCP between nodes")
      ->excludes("--hostfile");
  add_launcher_option(cmd, a->launcher);
  add_slurm_options(cmd, a->slurm);
  cmd->add_flag("--dry-run", a->dry_run, "print the mpirun (or srun) command line and exit");
  cmd->add_flag("--json", a->json, "machine-readable output");
  cmd->add_flag("--verify", a->verify, "check every schedule against the single-process reference");
  cmd->add_flag("--model", a->model,
                "whole-model training steps (the config's model section): iteration time per schedule, every "
                "MoE block on it");
  cmd->add_option("--timeout-ms", a->timeout_ms, "bound on every collective wait, in ms (default 60000)")
      ->check(integer_in(1));
  cmd->add_option("--db", a->db_path,
                  "SQLite project file: store the run, its ranks, counters and every traced op")
      ->check(db_path_check("run"));
  // A test hook, not for users: hidden from --help (group "") but accepted.
  cmd->add_option("--die-on-rank", a->die_on_rank, "test hook: rank R aborts in the middle of the run")
      ->check(integer_in(0, std::numeric_limits<std::int32_t>::max(), "--die-on-rank"))
      ->group("");
  cmd->add_option(
      "--gate-logits", a->gate_logits,
      "the gate routes these logits instead of x*Wg (.npy float32/float64 or a JSON nested array, "
      "shape groups x S x E, or S x E for every MP group); dWg is then 0");
  cmd->add_option(
      "--dump-routing", a->dump_routing,
      "write every schedule's routing (per token: top-k experts, probability, combine weight, kept, "
      "slot; README 'Routing dump') to this JSON file");
  add_backend_option(cmd, a->backend);
  cmd->callback([a] {
    std::string source;
    const ConfigLoad load = load_unvalidated(a->path, source);  // unreadable: the path taken reports why
    std::int64_t ranks = a->ranks;
    if (ranks == 0 && !a->layout_given()) ranks = load.config ? load.config->parallel.ranks : 1;
    // The reference layer computes on the cpu: any other backend runs (or is refused) as a distributed run.
    const Backend backend =
        backend_override(a->backend).value_or(load.config ? load.config->run.backend : Backend::Cpu);
    if (ranks == 1 && !a->layout_given() && backend == Backend::Cpu)
      run_reference(*a);
    else
      run_distributed(*a);
  });
}

}  // namespace parm::cli
