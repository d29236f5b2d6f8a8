#include "engine/cli/slurm_submit.h"

#include <signal.h>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "engine/cli/arg_rules.h"
#include "engine/core/config_json.h"
#include "engine/launch/command_capture.h"
#include "engine/launch/slurm_follow.h"
#include "engine/launch/slurm_job.h"

namespace parm::cli {
namespace {

namespace fs = std::filesystem;

std::string stamp() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::localtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
  return buf;
}

}  // namespace

std::vector<std::string> job_run_flag_words(const JobRunFlags& f) {
  std::vector<std::string> a;
  const auto abs = [](const std::string& p) { return fs::absolute(p).string(); };
  if (!f.db_path.empty()) a.insert(a.end(), {"--db", abs(f.db_path)});
  if (f.verify) a.push_back("--verify");
  if (f.json) a.push_back("--json");
  if (f.model) a.push_back("--model");
  if (f.timeout_ms > 0) a.insert(a.end(), {"--timeout-ms", std::to_string(f.timeout_ms)});
  if (f.die_on_rank >= 0) a.insert(a.end(), {"--die-on-rank", std::to_string(f.die_on_rank)});
  if (!f.gate_logits.empty()) a.insert(a.end(), {"--gate-logits", abs(f.gate_logits)});
  if (!f.dump_routing.empty()) a.insert(a.end(), {"--dump-routing", abs(f.dump_routing)});
  return a;
}

std::string job_stem(const Config& c) {
  return c.name + "-" + stamp();
}

void check_slurm_options(const Config& c, const SlurmOptions& s) {
  if (!s.partition.empty() && !slurm::valid_slurm_name(s.partition))
    refuse_line("parm run: --partition must be a Slurm name (letters, digits, _.-+@,:), got '" + s.partition +
                "'");
  if (!s.account.empty() && !slurm::valid_slurm_name(s.account))
    refuse_line("parm run: --account must be a Slurm name (letters, digits, _.-+@,:), got '" + s.account +
                "'");
  if (!s.time_limit.empty() && !slurm::valid_time_limit(s.time_limit))
    refuse_line("parm run: --time must be Slurm's time format (M, M:S, H:M:S, D-H, D-H:M, D-H:M:S), got '" +
                s.time_limit + "'");
  if (s.nodes > 0 && s.nodes != c.parallel.nodes())
    refuse_line("parm run: --nodes " + std::to_string(s.nodes) + " does not match the layout's " +
                std::to_string(c.parallel.nodes()) + " nodes (ranks " + std::to_string(c.parallel.ranks) +
                " / --gpus-per-node " + std::to_string(c.parallel.gpus_per_node) + ")");
}

namespace {

std::vector<std::string> job_command(const std::string& parm, const std::string& config,
                                     const JobRunFlags& f) {
  std::vector<std::string> a = {parm, "run", config, "--launcher", "srun"};
  const std::vector<std::string> flags = job_run_flag_words(f);
  a.insert(a.end(), flags.begin(), flags.end());
  return a;
}

std::string replace_job_id(std::string path, const std::string& id) {
  const auto at = path.find("%j");
  if (at != std::string::npos) path.replace(at, 2, id);
  return path;
}

// The one line a finished job ends with, and the exit code (README "On a Slurm cluster").
int report(const std::string& id, const slurm::FollowOutcome& o, const JobRunFlags& f) {
  const slurm::JobInfo& j = o.last;
  const std::string job = "parm run: Slurm job " + id + " ";
  const std::string nothing = "; nothing was stored as complete";
  if (o.signal != 0) {
    std::cerr << job << "cancelled: parm run was interrupted (" << (o.signal == SIGINT ? "SIGINT" : "SIGTERM")
              << ")" << nothing << '\n';
    return o.signal == SIGINT ? 130 : 143;
  }
  if (o.lost) {
    std::cerr << job << "is no longer known to scontrol (last seen " << (j.state.empty() ? "never" : j.state)
              << "); see its log" << '\n';
    return 1;
  }
  if (o.stuck_completing) {
    std::cerr << job << "COMPLETING for over a minute: Slurm has not ended its processes yet (exit code "
              << j.exit_code << " so far; see scontrol show job " << id << ")" << nothing << '\n';
    return 1;
  }
  if (j.state == "COMPLETED" && j.exit_code == 0) {
    std::cerr << job << "COMPLETED on " << j.nodes
              << (f.db_path.empty() ? std::string() : "; the run is stored in " + f.db_path) << '\n';
    return 0;
  }
  const std::string inner = o.last_run_line.empty() ? std::string() : ": " + o.last_run_line.substr(10);
  if (j.state == "TIMEOUT")
    std::cerr << job << "TIMEOUT: it ran past its time limit " << j.time_limit << nothing << '\n';
  else if (j.state == "CANCELLED")
    std::cerr << job << "CANCELLED (scancel or the cluster's administrator)" << nothing << '\n';
  else if (j.state == "FAILED" || j.state == "COMPLETED")
    std::cerr << job << "FAILED (exit code " << j.exit_code << ")" << inner << '\n';
  else
    std::cerr << job << j.state << " (" << j.reason << ")" << nothing << '\n';
  return 1;
}

}  // namespace

void add_slurm_options(CLI::App* cmd, SlurmOptions& o) {
  cmd->add_flag("--slurm", o.submit,
                "submit the run as a Slurm batch job: writes CONFIG and an sbatch script into slurm/ beside "
                "--db (or here), follows the job and ends with its state (--dry-run prints the script)");
  const auto needs = [&](CLI::Option* opt) { opt->needs("--slurm"); };
  needs(cmd->add_option("--partition", o.partition, "with --slurm: the partition to submit to"));
  needs(cmd->add_option("--account", o.account, "with --slurm: the account to charge"));
  needs(cmd->add_option("--time", o.time_limit,
                        "with --slurm: the job's time limit (Slurm's format, e.g. 30 or 1:00:00)"));
  needs(
      cmd->add_option("--nodes", o.nodes, "with --slurm: nodes to ask for (must be ranks / --gpus-per-node)")
          ->check(CLI::PositiveNumber));
  needs(cmd->add_option("--remote", o.remote,
                        "with --slurm: submit from this login host over ssh (your keys and ~/.ssh/config); "
                        "the project (--db) must be on a folder it shares at the same path"));
  cmd->add_option("--remote-parm", o.remote_parm,
                  "with --remote: the parm to run there (default: parm on its PATH)")
      ->needs("--remote");
}

int submit_slurm_run(const Config& c, const SlurmOptions& s, const JobRunFlags& f, bool dry_run) {
  check_slurm_options(c, s);
  const EnvLookup env = process_env();
  const std::string sbatch = slurm::find_tool(env, "sbatch");
  if (sbatch.empty() && !dry_run)
    refuse_line("parm run: --slurm: sbatch not found: set SBATCH or put Slurm's commands on PATH");
  const std::string scontrol = slurm::find_tool(env, "scontrol"), scancel = slurm::find_tool(env, "scancel");
  if ((scontrol.empty() || scancel.empty()) && !dry_run)
    refuse_line("parm run: --slurm: scontrol or scancel not found: put Slurm's commands on PATH");

  // Beside the project: the job's files are read on the compute nodes, so they sit on the user's own
  // (shared) filesystem, never in /tmp.
  const fs::path folder =
      (f.db_path.empty() ? fs::current_path() : fs::absolute(f.db_path).parent_path()) / "slurm";
  const std::string stem = job_stem(c);
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) refuse_line("parm run: --slurm: cannot make " + folder.string() + ": " + ec.message(), 1);
  const std::string config_path = (folder / (stem + ".json")).string();
  const std::string script_path = (folder / (stem + ".sbatch")).string();
  save_config_file(c, config_path);

  slurm::JobRequest r;
  r.job_name = "parm-" + c.name;
  r.ranks = static_cast<int>(c.parallel.ranks);
  const bool gpu = c.run.backend != Backend::Cpu;
  if (s.nodes > 0) {
    r.nodes = static_cast<int>(s.nodes);
    r.tasks_per_node = static_cast<int>(c.parallel.gpus_per_node);
    if (gpu) r.gpus_per_node = r.tasks_per_node;
  }
  r.gpus_per_task = gpu && s.nodes == 0 ? 1 : 0;
  r.partition = s.partition;
  r.account = s.account;
  r.time_limit = s.time_limit;
  r.overcommit = !gpu;
  r.out_path = (folder / (stem + "-%j.out")).string();
  r.err_path = (folder / (stem + "-%j.err")).string();
  r.workdir = fs::current_path().string();
  r.command = job_command(self_executable(), config_path, f);
  {
    std::ofstream out(script_path);
    out << slurm::sbatch_script(r, "Written by parm run --slurm for config " + c.name + ".");
    if (!out) refuse_line("parm run: --slurm: cannot write " + script_path, 1);
  }
  if (dry_run) {
    std::ifstream in(script_path);
    std::cout << in.rdbuf();
    std::cerr << "parm run: dry run; the script is " << script_path << " (submit it with sbatch)" << '\n';
    return 0;
  }

  const CommandResult sub = run_command({sbatch, "--parsable", script_path});
  const auto id = sub.exit_code == 0 ? slurm::parse_job_id(sub.output) : std::nullopt;
  if (!id) {
    std::string why = sub.output.substr(0, sub.output.find('\n'));
    refuse_line("parm run: sbatch refused " + script_path + ": " + (why.empty() ? "no job id printed" : why));
  }
  std::cerr << "parm run: submitted Slurm job " << *id << " (" << script_path << ")" << '\n';
  const slurm::FollowOutcome o = slurm::follow_job(
      *id, {scontrol, scancel}, replace_job_id(r.out_path, *id), replace_job_id(r.err_path, *id),
      [&](const std::string& state) { std::cerr << "parm run: Slurm job " << *id << " " << state << '\n'; });
  return report(*id, o, f);
}

}  // namespace parm::cli
