// Who is still alive: a process named across pid reuse (host, pid, start time), the workers of one run found
// by the run folder their command lines name, and the watch each worker keeps on the `parm` that launched it,
// so a killed `parm run` never leaves ranks running, or a run stored as complete, behind it.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parm {

// The environment variable through which `parm run` names itself to its workers ("host:pid:start").
inline constexpr const char* kLauncherEnv = "PARM_LAUNCHER";

struct ProcessIdentity {
  std::string host;
  pid_t pid = 0;
  std::uint64_t start_ticks = 0;  // field 22 of /proc/PID/stat: tells a reused pid from the original
};

ProcessIdentity self_identity();
std::string encode(const ProcessIdentity& id);
std::optional<ProcessIdentity> decode_identity(std::string_view text);

// The start time of a running process; nullopt when it is gone or a zombie.
std::optional<std::uint64_t> running_start_ticks(pid_t pid);

// Whether `id` still runs; nullopt when it lives on another host (nothing can be said from here).
std::optional<bool> process_alive(const ProcessIdentity& id);

// Processes other than this one running `exe` whose command line contains `needle` (a run folder's unique
// path): the ranks of that run on this machine, whatever process group they are in.
std::vector<pid_t> processes_mentioning(const std::string& needle, const std::string& exe);

// Sends `sig` to every process processes_mentioning finds; returns how many there were.
int signal_processes_mentioning(const std::string& needle, const std::string& exe, int sig);

// In a worker: true once the launcher named by PARM_LAUNCHER (on this host) has gone. False without one.
bool launcher_gone();

// In a worker: a background watch that ends this process (_exit(code)) within a fraction of a second of its
// launcher or its parent (mpirun, or Open MPI's daemon) going away, so no rank outlives the run.
void exit_when_orphaned(int code);

}  // namespace parm
