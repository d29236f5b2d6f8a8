#include "engine/launch/process_watch.h"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

namespace parm {
namespace {

std::string this_host() {
  std::array<char, 256> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0) return "unknown";
  return buf.data();
}

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

template <typename Int>
std::optional<Int> to_int(std::string_view s) {
  Int v{};
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

ProcessIdentity self_identity() {
  return {this_host(), ::getpid(), running_start_ticks(::getpid()).value_or(0)};
}

std::string encode(const ProcessIdentity& id) {
  return id.host + ":" + std::to_string(id.pid) + ":" + std::to_string(id.start_ticks);
}

std::optional<ProcessIdentity> decode_identity(std::string_view text) {
  const auto last = text.rfind(':');
  if (last == std::string_view::npos || last == 0) return std::nullopt;
  const auto middle = text.rfind(':', last - 1);
  if (middle == std::string_view::npos || middle == 0) return std::nullopt;
  const auto pid = to_int<pid_t>(text.substr(middle + 1, last - middle - 1));
  const auto ticks = to_int<std::uint64_t>(text.substr(last + 1));
  if (!pid || *pid <= 0 || !ticks) return std::nullopt;
  return ProcessIdentity{std::string(text.substr(0, middle)), *pid, *ticks};
}

std::optional<std::uint64_t> running_start_ticks(pid_t pid) {
  const std::string stat = read_all("/proc/" + std::to_string(pid) + "/stat");
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so fields count from the last ')'.
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 1));
  std::string state;
  fields >> state;
  if (state.empty() || state == "Z" || state == "X") return std::nullopt;
  std::string field;
  for (int i = 4; i < 22 && fields >> field; ++i) {
  }
  std::uint64_t ticks = 0;
  if (!(fields >> ticks)) return std::nullopt;
  return ticks;
}

std::optional<bool> process_alive(const ProcessIdentity& id) {
  if (id.host != this_host()) return std::nullopt;
  const auto ticks = running_start_ticks(id.pid);
  return ticks && *ticks == id.start_ticks;
}

std::vector<pid_t> processes_mentioning(const std::string& needle, const std::string& exe) {
  std::vector<pid_t> out;
  if (needle.empty()) return out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const auto pid = to_int<pid_t>(entry.path().filename().string());
    if (!pid || *pid == ::getpid()) continue;
    std::error_code link_ec;
    if (std::filesystem::read_symlink(entry.path() / "exe", link_ec).string() != exe || link_ec) continue;
    if (read_all(entry.path() / "cmdline").find(needle) == std::string::npos) continue;
    if (running_start_ticks(*pid)) out.push_back(*pid);
  }
  return out;
}

int signal_processes_mentioning(const std::string& needle, const std::string& exe, int sig) {
  const std::vector<pid_t> pids = processes_mentioning(needle, exe);
  for (pid_t pid : pids) ::kill(pid, sig);
  return static_cast<int>(pids.size());
}

bool launcher_gone() {
  const char* text = std::getenv(kLauncherEnv);
  if (!text) return false;
  const auto id = decode_identity(text);
  if (!id) return false;
  return process_alive(*id) == std::optional<bool>(false);
}

void exit_when_orphaned(int code) {
  const pid_t parent = ::getppid();
  std::thread([parent, code] {
    for (;;) {
      // A changed parent means mpirun (or its daemon) died; our peers are going or gone too.
      if (::getppid() != parent || launcher_gone()) ::_exit(code);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }).detach();
}

}  // namespace parm
