// How `parm run` starts the MPI worker: the mpirun (or, inside a Slurm allocation, srun) command line (a
// pure function, so `--dry-run` prints exactly what would run and tests check it), and a supervisor that runs
// it under a deadline and names a dead rank.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/core/config.h"

namespace parm {

// The program that starts the ranks (launcher_choice.h picks it).
enum class Launcher { Mpirun, Srun };

struct LaunchOptions {
  Launcher launcher = Launcher::Mpirun;
  int ranks = 1;
  std::string hostfile;                 // empty: every rank on this machine
  std::string mpiexec;                  // the launcher binary (find_mpiexec, or find_srun for srun)
  std::string parm_exe;                 // absolute path of `parm` (see self_executable)
  std::string config_path;              // the worker's --config
  std::string result_path;              // the worker's --result
  std::vector<ScheduleKind> schedules;  // empty: the config's list
  std::int64_t timeout_ms = 0;          // 0: the worker's default collective timeout
  bool verify = false;
  int die_on_rank = -1;  // test hook passed through to the worker
  std::string db_path;   // the worker's --db (absolute): rank 0 stores the traced run there
  // Emulated or special clusters (see engine/cluster/cluster_launch.h): words run before the launcher binary
  // (e.g. entering the first node's namespace) and launcher options placed after "-np N".
  std::vector<std::string> wrapper;
  std::vector<std::string> launcher_args;
  // The parm subcommand each rank runs (`parm calibrate` starts "calibrate-worker") and words appended after
  // the worker's own options.
  std::string subcommand = "worker";
  std::vector<std::string> extra_args;
};

// Environment of the launcher process: assignments added to ours (only for variables not already set).
struct LaunchCommand {
  std::vector<std::pair<std::string, std::string>> env;
  std::vector<std::string> argv;
};

using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup process_env();

// The environment variable `override_name` when set, else `program` found on PATH (empty when neither).
std::string find_program(const EnvLookup& env, const std::string& override_name, const std::string& program);
// `MPIEXEC` when set, else `mpirun` found on PATH (empty when neither exists).
std::string find_mpiexec(const EnvLookup& env);
// The running executable (/proc/self/exe), so ranks run the same build as `parm run`.
std::string self_executable();

LaunchCommand build_launch_command(const LaunchOptions& options, const EnvLookup& env, bool running_as_root);

// POSIX shell quoting: bare when safe, else single quotes.
std::string shell_quote(std::string_view word);
// "NAME=value ... mpirun -np N ... parm worker ...", every word quoted for a POSIX shell.
std::string shell_line(const LaunchCommand& command);

// The rank a failed run's output blames, most specific first: a rank Open MPI saw killed by a signal
// ("process rank R ... exited on signal"), a rank a peer found unresponsive ("rank R did not answer ..."),
// our worker's "parm worker: rank R: ..." lines, then Open MPI's "MPI_ABORT was invoked on rank R".
struct FailedRank {
  int rank = -1;
  std::string reason;         // the line that named it, trimmed, without a final period
  bool unresponsive = false;  // it stopped answering (stopped or stuck) rather than died
  int noticed_by = -1;        // the rank whose timeout found it, when known
  std::string noticed_in;     // the wait that timed out there ("AlltoAll on group EP (world ranks 0,2)")
};
std::optional<FailedRank> blame_failed_rank(const std::vector<std::string>& lines);
// The rank alone; `reason` gets that line.
std::optional<int> find_failed_rank(const std::vector<std::string>& lines, std::string* reason = nullptr);
// The launcher's own first error line in its output ("srun: error: task 0 launch failed: ..."); empty: none.
std::string launcher_error_line(const std::vector<std::string>& lines);

struct LaunchOutcome {
  int exit_code = 0;  // the launcher's exit status; 128 + signal when killed
  bool timed_out = false;
  int signal = 0;  // SIGINT or SIGTERM we received (and passed on) while it ran; 0 when none
  std::chrono::milliseconds deadline{0};
  std::vector<std::string> tail;  // last lines of the launcher's output
};

// Starts the command in its own process group, copies its stdout and stderr to our stderr while keeping the
// last lines, and kills the whole group once `deadline` passes. SIGINT/SIGTERM to us are passed on to it
// (and what still runs 3 s later is killed). The launcher gets SIGTERM from the kernel if we die, and a
// forked guardian then ends the ranks and removes `run_dir`: every process of ours whose command line names
// `run_dir` (the run's unique folder) counts as one of its ranks.
LaunchOutcome run_launch(const LaunchCommand& command, std::chrono::milliseconds deadline,
                         const std::string& run_dir = {});

// The one-line verdict on a failed outcome, prefixed with `who`: "parm run: interrupted", "parm run: rank R
// died (...)", "parm run: rank R did not answer within ... (noticed by rank Q in ...)" or "parm run: worker
// failed ...".
std::string failure_line(const LaunchOutcome& outcome, const std::string& who = "parm run");
// The exit code for a failed outcome: 130 after SIGINT, 143 after SIGTERM, else 1.
int failure_exit_code(const LaunchOutcome& outcome);

}  // namespace parm
