// A command on a login host over OpenSSH (issue 20, `parm run --slurm --remote HOST`): the user's own ssh,
// keys and ~/.ssh/config (HOST may be an alias there), never a password prompt (BatchMode), a bounded
// connect. The remote `parm run --slurm` prints on our stdout; its stderr is echoed and read for the job id
// and its verdict, so an interrupted follow can still cancel the job it submitted.
#pragma once

#include <string>
#include <vector>

#include "engine/launch/launcher.h"

namespace parm::remote {

// ssh -o BatchMode=yes -o ConnectTimeout=S HOST -- LINE (LINE is run by the remote shell).
std::vector<std::string> ssh_argv(const std::string& ssh, const std::string& host, const std::string& line,
                                  int connect_timeout_s = 10);

// Words quoted for the remote shell, joined.
std::string remote_line(const std::vector<std::string>& words);

struct StreamOutcome {
  int exit_code = 0;          // ssh's: the remote command's, 255 for ssh's own failures
  int signal = 0;             // SIGINT / SIGTERM we received (ssh was ended); 0 when none
  std::string job_id;         // from "submitted Slurm job N"
  std::string last_run_line;  // the last "parm run: " line
  std::string last_line;      // the last line on stderr (ssh's own complaint when it failed)
};

// Runs argv with our stdout, its stderr echoed to ours line by line; SIGINT / SIGTERM end it.
StreamOutcome run_streaming(const std::vector<std::string>& argv);

}  // namespace parm::remote
