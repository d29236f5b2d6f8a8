#include "engine/launcher.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
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

extern "C" void forward_signal(int sig) {
  const pid_t group = g_child_group.load();
  if (group > 0) ::kill(-group, sig);
}

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

std::string find_mpiexec(const EnvLookup& env) {
  if (auto explicit_path = env("MPIEXEC"); explicit_path && !explicit_path->empty()) return *explicit_path;
  const auto path = env("PATH");
  if (!path) return {};
  std::stringstream dirs(*path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const std::filesystem::path candidate = std::filesystem::path(dir) / "mpirun";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

std::string self_executable() {
  std::error_code ec;
  const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot resolve /proc/self/exe: " + ec.message());
  return p.string();
}

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
  a.insert(a.end(), {o.parm_exe, o.subcommand, "--config", o.config_path, "--result", o.result_path});
  if (!o.schedules.empty()) a.insert(a.end(), {"--schedules", join_schedules(o.schedules)});
  if (o.timeout_ms > 0) a.insert(a.end(), {"--timeout-ms", std::to_string(o.timeout_ms)});
  if (o.verify) a.push_back("--verify");
  if (o.die_on_rank >= 0) a.insert(a.end(), {"--die-on-rank", std::to_string(o.die_on_rank)});
  if (!o.db_path.empty()) a.insert(a.end(), {"--db", o.db_path});
  a.insert(a.end(), o.extra_args.begin(), o.extra_args.end());
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

std::optional<int> find_failed_rank(const std::vector<std::string>& lines, std::string* reason) {
  // Most specific first: a rank killed by a signal is the cause; the others only noticed it.
  static const std::regex signal_death(R"(process rank (\d+) with PID \S+ on node \S+ exited on signal)");
  static const std::regex worker_line(R"(parm worker: rank (\d+): (.*))");
  static const std::regex mpi_abort(R"(MPI_ABORT was invoked on rank (\d+))");
  static const std::regex process_rank(R"(process rank (\d+))");
  static const std::regex process_name(R"(Process name: \[\[\d+,\d+\],(\d+)\])");
  for (const std::regex* re : {&signal_death, &worker_line, &mpi_abort, &process_rank, &process_name}) {
    for (const std::string& line : lines) {
      std::smatch m;
      if (!std::regex_search(line, m, *re)) continue;
      if (reason) {
        *reason = re == &worker_line ? trim(m[2].str()) : trim(line);
        while (!reason->empty() && reason->back() == '.') reason->pop_back();  // it goes inside parentheses
      }
      return std::stoi(m[1].str());
    }
  }
  return std::nullopt;
}

LaunchOutcome run_launch(const LaunchCommand& command, std::chrono::milliseconds deadline) {
  using Clock = std::chrono::steady_clock;
  LaunchOutcome out;
  out.deadline = deadline;

  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) env_strings.emplace_back(*e);
  for (const auto& [name, value] : command.env) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> argv_strings = command.argv;
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);  // the child's stdout never mixes
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);  // with our --json output
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGINT, SIGTERM, SIGPIPE}) sigaddset(&defaults, sig);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);  // own group: the deadline kills mpirun and every rank it started
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF);

  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    throw std::runtime_error("cannot start " + command.argv[0] + ": " + std::strerror(rc));
  }

  g_child_group = pid;
  struct sigaction forward {
  }, old_int{}, old_term{};
  forward.sa_handler = forward_signal;
  sigemptyset(&forward.sa_mask);
  ::sigaction(SIGINT, &forward, &old_int);
  ::sigaction(SIGTERM, &forward, &old_term);

  const auto end = Clock::now() + deadline;
  std::deque<std::string> tail;
  std::string partial;
  const auto keep = [&](std::string line) {
    tail.push_back(std::move(line));
    if (tail.size() > kTailLines) tail.pop_front();
  };
  bool open = true, exited = false;
  int status = 0;
  Clock::time_point exited_at{};
  char buf[4096];
  while (true) {
    if (!exited) {
      const pid_t w = ::waitpid(pid, &status, WNOHANG);
      if (w == pid) {
        exited = true;
        exited_at = Clock::now();
      }
    }
    if (exited && !open) break;
    // Ranks orphaned by a dead mpirun may hold the pipe open: give them a moment, then end the group.
    if (exited && Clock::now() - exited_at > std::chrono::seconds(2)) {
      kill_group(pid, SIGKILL);
      break;
    }
    if (!exited && Clock::now() >= end) {
      out.timed_out = true;
      kill_group(pid, SIGTERM);
      const auto grace = Clock::now() + std::chrono::seconds(3);
      while (Clock::now() < grace && ::waitpid(pid, &status, WNOHANG) == 0) ::usleep(50'000);
      kill_group(pid, SIGKILL);
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
  g_child_group = 0;
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);

  if (WIFEXITED(status))
    out.exit_code = WEXITSTATUS(status);
  else if (WIFSIGNALED(status))
    out.exit_code = 128 + WTERMSIG(status);
  if (out.timed_out && out.exit_code == 0) out.exit_code = 124;
  out.tail.assign(tail.begin(), tail.end());
  return out;
}

std::string failure_line(const LaunchOutcome& outcome) {
  if (outcome.timed_out) {
    std::string line = "parm run: worker still running after the overall deadline of " +
                       std::to_string(outcome.deadline.count() / 1000) + " s; killed it";
    std::string reason;
    if (const auto rank = find_failed_rank(outcome.tail, &reason))
      line += " (rank " + std::to_string(*rank) + ": " + reason + ")";
    return line;
  }
  std::string reason;
  if (const auto rank = find_failed_rank(outcome.tail, &reason))
    return "parm run: rank " + std::to_string(*rank) + " died (" + reason + "; exit code " +
           std::to_string(outcome.exit_code) + ")";
  return "parm run: worker failed with exit code " + std::to_string(outcome.exit_code);
}

}  // namespace parm
