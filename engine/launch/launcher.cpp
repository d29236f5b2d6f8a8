#include "engine/launch/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "engine/launch/process_watch.h"

extern char** environ;

namespace parm {
namespace {

constexpr std::size_t kTailLines = 40;

std::string join_schedules(const std::vector<ScheduleKind>& kinds) {
  std::string out;
  for (ScheduleKind k : kinds) {
    if (!out.empty()) out += ',';
    out += to_string(k);
  }
  return out;
}

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(" \t\r\n");
  return s.substr(first, last - first + 1);
}

// The launcher's process group, for the signal handler that forwards Ctrl-C (the child is not in the
// terminal's foreground group, so it would not see it otherwise).
std::atomic<pid_t> g_child_group{0};
std::atomic<int> g_signal{0};  // the SIGINT or SIGTERM we received while the launcher ran

std::atomic<bool> g_forwarded{false};

extern "C" void forward_signal(int sig) {
  g_signal = sig;
  const pid_t group = g_child_group.load();
  if (group > 0) {
    ::kill(-group, sig);
    g_forwarded = true;
  }
}

// Our SIGINT/SIGTERM handlers for as long as the launcher runs, installed before it starts so no signal
// falls between the start and the handler.
class SignalForwarding {
 public:
  SignalForwarding() {
    g_signal = 0;
    g_forwarded = false;
    g_child_group = 0;
    struct sigaction forward {};
    forward.sa_handler = forward_signal;
    sigemptyset(&forward.sa_mask);
    ::sigaction(SIGINT, &forward, &old_int_);
    ::sigaction(SIGTERM, &forward, &old_term_);
  }
  ~SignalForwarding() {
    g_child_group = 0;
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }
  SignalForwarding(const SignalForwarding&) = delete;
  SignalForwarding& operator=(const SignalForwarding&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

void kill_group(pid_t group, int sig) {
  if (group > 0) ::kill(-group, sig);
}

}  // namespace

EnvLookup process_env() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v) return std::nullopt;
    return std::string(v);
  };
}

std::string find_program(const EnvLookup& env, const std::string& override_name, const std::string& program) {
  if (auto explicit_path = env(override_name); explicit_path && !explicit_path->empty())
    return *explicit_path;
  const auto path = env("PATH");
  if (!path) return {};
  std::stringstream dirs(*path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const std::filesystem::path candidate = std::filesystem::path(dir) / program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

std::string find_mpiexec(const EnvLookup& env) {
  return find_program(env, "MPIEXEC", "mpirun");
}

std::string self_executable() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot resolve /proc/self/exe: " + ec.message());
  return p.string();
}

static void append_worker(const LaunchOptions& o, std::vector<std::string>& argv);
static LaunchCommand build_srun_command(const LaunchOptions& o, LaunchCommand cmd);

LaunchCommand build_launch_command(const LaunchOptions& o, const EnvLookup& env, bool running_as_root) {
  LaunchCommand cmd;
  // The user's own settings win: only unset variables get our defaults.
  const auto set_default = [&](const char* name, const char* value) {
    if (!env(name)) cmd.env.emplace_back(name, value);
  };
  // N ranks share few cores: a BLAS thread pool per rank would oversubscribe them many times over.
  set_default("OPENBLAS_NUM_THREADS", "1");
  if (running_as_root) {
    set_default("OMPI_ALLOW_RUN_AS_ROOT", "1");
    set_default("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1");
  }
  if (o.launcher == Launcher::Srun) return build_srun_command(o, std::move(cmd));
  const bool local = o.hostfile.empty();
  if (local) {
    // More ranks than cores is normal for CPU runs; shared memory is the transport between local ranks.
    set_default("OMPI_MCA_rmaps_base_oversubscribe", "1");
    set_default("OMPI_MCA_pml", "ob1");
    set_default("OMPI_MCA_btl", "self,vader");
  }

  auto& a = cmd.argv;
  a = o.wrapper;
  a.insert(a.end(), {o.mpiexec.empty() ? std::string("mpirun") : o.mpiexec, "-np", std::to_string(o.ranks)});
  if (!local) a.insert(a.end(), {"--hostfile", o.hostfile});
  a.insert(a.end(), o.launcher_args.begin(), o.launcher_args.end());
  a.insert(a.end(), {"-x", "OPENBLAS_NUM_THREADS"});  // local and remote ranks alike
  append_worker(o, a);
  return cmd;
}

static void append_worker(const LaunchOptions& o, std::vector<std::string>& a) {
  a.insert(a.end(), {o.parm_exe, o.subcommand, "--config", o.config_path, "--result", o.result_path});
  if (!o.schedules.empty()) a.insert(a.end(), {"--schedules", join_schedules(o.schedules)});
  if (o.timeout_ms > 0) a.insert(a.end(), {"--timeout-ms", std::to_string(o.timeout_ms)});
  if (o.verify) a.push_back("--verify");
  if (o.die_on_rank >= 0) a.insert(a.end(), {"--die-on-rank", std::to_string(o.die_on_rank)});
  if (!o.db_path.empty()) a.insert(a.end(), {"--db", o.db_path});
  a.insert(a.end(), o.extra_args.begin(), o.extra_args.end());
}

// srun inside the allocation: PMIx wires Open MPI up (with pmi2 Open MPI 4.1 aborts on a NULL communicator),
// more ranks than the allocation's CPUs are allowed (CPU ranks share cores as under mpirun), and one rank's
// failure ends the step at once, as mpirun ends the job.
static LaunchCommand build_srun_command(const LaunchOptions& o, LaunchCommand cmd) {
  auto& a = cmd.argv;
  a = {o.mpiexec.empty() ? std::string("srun") : o.mpiexec,
       "--mpi=pmix",
       "--ntasks",
       std::to_string(o.ranks),
       "--overcommit",
       "--kill-on-bad-exit=1",
       "--export=ALL"};
  a.insert(a.end(), o.launcher_args.begin(), o.launcher_args.end());
  append_worker(o, a);
  return cmd;
}

std::string shell_quote(std::string_view word) {
  if (word.empty()) return "''";
  const bool safe = std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("_@%+=:,./-", c) != nullptr;
  });
  if (safe) return std::string(word);
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string shell_line(const LaunchCommand& command) {
  std::string line;
  const auto add = [&line](const std::string& word) {
    if (!line.empty()) line += ' ';
    line += word;
  };
  for (const auto& [name, value] : command.env) add(name + "=" + shell_quote(value));
  for (const auto& word : command.argv) add(shell_quote(word));
  return line;
}

std::optional<FailedRank> blame_failed_rank(const std::vector<std::string>& lines) {
  // A rank killed by a signal is the cause; a rank that did not answer comes next; the others only noticed.
  static const std::regex signal_death(R"(process rank (\d+) with PID \S+ on node \S+ exited on signal)");
  // srun names one task per line: "srun: error: node1: task 2: Killed" (the others follow as "tasks ...").
  static const std::regex srun_task(
      R"(srun: error: \S+: task (\d+): (Killed|Terminated|Aborted|Segmentation fault|Bus error|Exited with exit code [1-9]\d*))");
  static const std::regex no_answer(
      R"(parm worker: rank (\d+): (.*?)(?: did not complete)?[: ]*\b(rank (\d+) did not answer.*))");
  static const std::regex worker_line(R"(parm worker: rank (\d+): (.*))");
  static const std::regex mpi_abort(R"(MPI_ABORT was invoked on rank (\d+))");
  static const std::regex process_rank(R"(process rank (\d+))");
  static const std::regex process_name(R"(Process name: \[\[\d+,\d+\],(\d+)\])");
  for (const std::regex* re :
       {&signal_death, &srun_task, &no_answer, &worker_line, &mpi_abort, &process_rank, &process_name}) {
    for (const std::string& line : lines) {
      std::smatch m;
      if (!std::regex_search(line, m, *re)) continue;
      FailedRank f;
      f.rank = std::stoi(m[1].str());
      f.reason = re == &no_answer ? trim(m[3].str()) : re == &worker_line ? trim(m[2].str()) : trim(line);
      while (!f.reason.empty() && f.reason.back() == '.') f.reason.pop_back();  // it goes inside parentheses
      if (re == &no_answer) {
        f.noticed_by = f.rank;
        f.noticed_in = trim(m[2].str());
        f.rank = std::stoi(m[4].str());
        f.unresponsive = true;
      }
      return f;
    }
  }
  return std::nullopt;
}

std::string launcher_error_line(const std::vector<std::string>& lines) {
  // "srun: error: task 0 launch failed: Unspecified error" (srun may still exit 0), mpirun's own errors.
  static const std::regex error(R"(^(srun|mpirun|mpiexec|prterun): error: .*)");
  for (const std::string& line : lines)
    if (std::smatch m; std::regex_search(line, m, error)) return trim(m[0].str());
  return {};
}

std::optional<int> find_failed_rank(const std::vector<std::string>& lines, std::string* reason) {
  const auto f = blame_failed_rank(lines);
  if (!f) return std::nullopt;
  if (reason) *reason = f->reason;
  return f->rank;
}

namespace {

// What the launcher prepares before fork, so the child only makes async-signal-safe calls before exec.
struct ChildImage {
  std::vector<std::string> env_strings, argv_strings;
  std::vector<char*> envp, argv;
  explicit ChildImage(const LaunchCommand& command) : argv_strings(command.argv) {
    for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
    for (const auto& [name, value] : command.env) env_strings.push_back(name + "=" + value);
    // Workers on this host watch us through it and end themselves when we are gone.
    env_strings.push_back(std::string(kLauncherEnv) + "=" + encode(self_identity()));
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    for (auto& s : argv_strings) argv.push_back(s.data());
    argv.push_back(nullptr);
  }
};

// A close-on-exec pipe in `fds`, then fork(); on either failure nothing is left open and the error is thrown.
pid_t fork_with_pipe(int fds[2]) {
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error(std::string("fork: ") + std::strerror(err));
  }
  return pid;
}

// Starts the launcher in its own process group with `out` as stdout and stderr. The child asks the kernel for
// SIGTERM when we die (even by SIGKILL), so mpirun never outlives `parm run`; exec errors come back as errno.
pid_t spawn_launcher(ChildImage& image, int out) {
  int errpipe[2];
  const pid_t parent = ::getpid();
  const pid_t pid = fork_with_pipe(errpipe);
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127);  // we died before the request took effect
    ::setpgid(0, 0);                          // own group: the deadline ends mpirun and its helpers
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGINT, SIGTERM, SIGPIPE, SIGHUP}) ::sigaction(sig, &dfl, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::dup2(out, STDOUT_FILENO);  // the child's output never mixes with our --json output
    ::dup2(out, STDERR_FILENO);
    ::execvpe(image.argv[0], image.argv.data(), image.envp.data());
    const int err = errno;
    [[maybe_unused]] const ssize_t w = ::write(errpipe[1], &err, sizeof err);
    ::_exit(127);
  }
  ::close(errpipe[1]);
  int err = 0;
  ssize_t n = 0;
  do n = ::read(errpipe[0], &err, sizeof err);
  while (n < 0 && errno == EINTR);
  ::close(errpipe[0]);
  if (n == static_cast<ssize_t>(sizeof err)) {
    ::waitpid(pid, nullptr, 0);
    throw std::runtime_error("cannot start " + image.argv_strings[0] + ": " + std::strerror(err));
  }
  return pid;
}

// Ends the launcher's group and every rank of this run on this machine (Open MPI puts each rank in a
// process group of its own, so the group alone does not reach them).
void end_run(pid_t group, const std::string& run_dir, const std::string& exe, int sig) {
  kill_group(group, sig);
  if (!run_dir.empty()) signal_processes_mentioning(run_dir, exe, sig);
}

// A forked guardian that outlives us only to clean up: when our end of `guard` closes without the "done"
// byte (we were killed), it ends mpirun and the ranks and removes the run folder.
pid_t spawn_guardian(pid_t group, const std::string& run_dir, const std::string& exe, int output,
                     int& guard) {
  int fds[2];
  const pid_t pid = fork_with_pipe(fds);
  if (pid == 0) {
    ::close(fds[1]);
    ::close(output);  // mpirun must see a closed pipe once we are gone
    ::prctl(PR_SET_NAME, "parm-guardian");
    struct sigaction ign {};
    ign.sa_handler = SIG_IGN;  // Ctrl-C and a closed terminal are the launcher's to handle
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) ::sigaction(sig, &ign, nullptr);
    char done = 0;
    ssize_t n = 0;
    do n = ::read(fds[0], &done, 1);
    while (n < 0 && errno == EINTR);
    if (n == 1) ::_exit(0);
    end_run(group, run_dir, exe, SIGTERM);
    for (int i = 0; i < 30 && running_start_ticks(group); ++i) ::usleep(100'000);
    end_run(group, run_dir, exe, SIGKILL);
    for (int i = 0; i < 20 && !processes_mentioning(run_dir, exe).empty(); ++i) ::usleep(100'000);
    std::error_code ec;
    if (!run_dir.empty()) std::filesystem::remove_all(run_dir, ec);
    ::_exit(0);
  }
  ::close(fds[0]);
  guard = fds[1];
  return pid;
}

}  // namespace

LaunchOutcome run_launch(const LaunchCommand& command, std::chrono::milliseconds deadline,
                         const std::string& run_dir) {
  using Clock = std::chrono::steady_clock;
  LaunchOutcome out;
  out.deadline = deadline;
  ChildImage image(command);
  const std::string exe = self_executable();

  const SignalForwarding forwarding;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  pid_t pid = 0;
  try {
    pid = spawn_launcher(image, fds[1]);
  } catch (...) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw;
  }
  ::close(fds[1]);
  int guard = -1;
  const pid_t guardian = spawn_guardian(pid, run_dir, exe, fds[0], guard);

  g_child_group = pid;

  const auto end = Clock::now() + deadline;
  std::deque<std::string> tail;
  std::string partial;
  const auto keep = [&](std::string line) {
    tail.push_back(std::move(line));
    if (tail.size() > kTailLines) tail.pop_front();
  };
  bool open = true, exited = false, killed = false;
  int status = 0;
  Clock::time_point exited_at{}, signalled_at{};
  char buf[4096];
  while (true) {
    if (!exited) {
      const pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w == pid) {
        exited = true;
        exited_at = Clock::now();
      }
    }
    if (g_signal != 0 && out.signal == 0) {
      out.signal = g_signal;
      signalled_at = Clock::now();
      if (!g_forwarded) kill_group(pid, out.signal);  // it came before the launcher's group was known
      if (!run_dir.empty()) signal_processes_mentioning(run_dir, exe, SIGTERM);
    }
    // Interrupted: mpirun had its signal; what still runs a few seconds later is killed.
    if (out.signal != 0 && !killed && Clock::now() - signalled_at > std::chrono::seconds(3)) {
      end_run(pid, run_dir, exe, SIGKILL);
      killed = true;
    }
    if (exited && !open) break;
    // Ranks orphaned by a dead mpirun may hold the pipe open: give them a moment, then end them.
    if (exited && Clock::now() - exited_at > std::chrono::seconds(2)) {
      end_run(pid, run_dir, exe, SIGKILL);
      break;
    }
    if (!exited && Clock::now() >= end) {
      out.timed_out = true;
      end_run(pid, run_dir, exe, SIGTERM);
      const auto grace = Clock::now() + std::chrono::seconds(3);
      while (Clock::now() < grace && ::waitpid(pid, &status, WNOHANG) == 0) ::usleep(50'000);
      end_run(pid, run_dir, exe, SIGKILL);
      if (::waitpid(pid, &status, WNOHANG) == 0) ::waitpid(pid, &status, 0);
      exited = true;
      break;
    }
    if (!open) {
      ::usleep(50'000);
      continue;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, 100);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      open = false;
      continue;
    }
    std::fwrite(buf, 1, static_cast<std::size_t>(n), stderr);
    std::fflush(stderr);
    partial.append(buf, static_cast<std::size_t>(n));
    for (auto nl = partial.find('\n'); nl != std::string::npos; nl = partial.find('\n')) {
      keep(partial.substr(0, nl));
      partial.erase(0, nl + 1);
    }
  }
  if (!partial.empty()) keep(partial);
  ::close(fds[0]);
  // Wait until no rank of this run is left before the caller removes the folder it works in.
  for (int i = 0; i < 40 && !run_dir.empty() && !processes_mentioning(run_dir, exe).empty(); ++i)
    ::usleep(50'000);
  const char done = 1;
  [[maybe_unused]] const ssize_t w = ::write(guard, &done, 1);
  ::close(guard);
  ::waitpid(guardian, nullptr, 0);
  if (out.signal == 0 && g_signal != 0) out.signal = g_signal;

  if (WIFEXITED(status))
    out.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    out.exit_code = 128 + WTERMSIG(status);
  if (out.timed_out && out.exit_code == 0) out.exit_code = 124;
  out.tail.assign(tail.begin(), tail.end());
  return out;
}

std::string failure_line(const LaunchOutcome& outcome, const std::string& who) {
  if (outcome.signal == SIGINT) return who + ": interrupted";
  if (outcome.signal != 0) return who + ": terminated";
  const auto blamed = blame_failed_rank(outcome.tail);
  if (outcome.timed_out) {
    std::string line = who + ": worker still running after the overall deadline of " +
                       std::to_string(outcome.deadline.count() / 1000) + " s; killed it";
    if (blamed) line += " (rank " + std::to_string(blamed->rank) + ": " + blamed->reason + ")";
    return line;
  }
  const std::string code = "exit code " + std::to_string(outcome.exit_code);
  if (blamed && blamed->unresponsive)
    return who + ": " + blamed->reason + " (noticed by rank " + std::to_string(blamed->noticed_by) +
           (blamed->noticed_in.empty() ? std::string() : " in " + blamed->noticed_in) + "; " + code + ")";
  if (blamed)
    return who + ": rank " + std::to_string(blamed->rank) + " died (" + blamed->reason + "; " + code + ")";
  return who + ": worker failed with " + code;
}

int failure_exit_code(const LaunchOutcome& outcome) {
  if (outcome.signal == SIGINT) return 130;
  if (outcome.signal != 0) return 143;
  return 1;
}

}  // namespace parm
