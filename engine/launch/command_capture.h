// Runs a short command (no shell) and captures what it prints: the tools a launcher asks (ip, sbatch,
// scontrol, scancel, ssh) and whose answer it parses.
#pragma once

#include <string>
#include <vector>

namespace parm {

struct CommandResult {
  int exit_code = -1;  // 127 when it could not start; 128 + signal when killed
  std::string output;  // stdout and stderr together
};

// Runs argv[0] from PATH with all signals unblocked in the child and stdin from /dev/null; waits for it.
// Throws std::runtime_error only when no pipe can be made.
CommandResult run_command(const std::vector<std::string>& argv);

}  // namespace parm
