#include "engine/launch/ssh_remote.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <regex>

extern char** environ;

namespace parm::remote {
namespace {

std::atomic<int> g_signal{0};
extern "C" void remember_signal(int sig) {
  g_signal = sig;
}

}  // namespace

std::vector<std::string> ssh_argv(const std::string& ssh, const std::string& host, const std::string& line,
                                  int connect_timeout_s) {
  return {ssh,  "-o", "BatchMode=yes", "-o", "ConnectTimeout=" + std::to_string(connect_timeout_s), host,
          "--", line};
}

std::string remote_line(const std::vector<std::string>& words) {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : " ") + shell_quote(w);
  return out;
}

StreamOutcome run_streaming(const std::vector<std::string>& words) {
  StreamOutcome o;
  g_signal = 0;
  struct sigaction note {
  }, old_int{}, old_term{};
  note.sa_handler = remember_signal;
  sigemptyset(&note.sa_mask);
  ::sigaction(SIGINT, &note, &old_int);
  ::sigaction(SIGTERM, &note, &old_term);

  std::vector<std::string> copy = words;
  std::vector<char*> argv;
  for (auto& w : copy) argv.push_back(w.data());
  argv.push_back(nullptr);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    o.exit_code = 255;
    o.last_line = std::string("pipe: ") + std::strerror(errno);
    return o;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // Its own process group: Ctrl-C reaches us, and we end ssh (a remote command gets no signal through ssh
  // without a terminal, so the job is cancelled explicitly afterwards).
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
  pid_t pid = 0;
  const int rc = ::posix_spawnp(&pid, argv[0], &actions, &attr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  ::close(fds[1]);
  if (rc != 0) {
    ::close(fds[0]);
    o.exit_code = 255;
    o.last_line = words[0] + ": " + std::strerror(rc);
    ::sigaction(SIGINT, &old_int, nullptr);
    ::sigaction(SIGTERM, &old_term, nullptr);
    return o;
  }
  static const std::regex submitted(R"(submitted Slurm job (\d+))");
  std::string partial;
  const auto take = [&](const std::string& line) {
    std::fprintf(stderr, "%s\n", line.c_str());
    std::smatch m;
    if (std::regex_search(line, m, submitted)) o.job_id = m[1].str();
    if (line.rfind("parm run: ", 0) == 0) o.last_run_line = line;
    if (!line.empty()) o.last_line = line;
  };
  bool ended = false;
  while (true) {
    if (g_signal != 0 && !ended) {
      o.signal = g_signal;
      ::kill(-pid, SIGTERM);
      ended = true;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, 200);
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) continue;
    char buf[4096];
    const ssize_t n = ::read(fds[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    partial.append(buf, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = partial.find('\n')) != std::string::npos) {
      take(partial.substr(0, nl));
      partial.erase(0, nl + 1);
    }
  }
  if (!partial.empty()) take(partial);
  ::close(fds[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  return o;
}

}  // namespace parm::remote
