// `parm run --slurm --remote HOST`: the submission of slurm_submit.cpp, run on a login host over ssh.
#include <signal.h>

#include <filesystem>
#include <iostream>

#include "engine/cli/arg_rules.h"
#include "engine/cli/slurm_submit.h"
#include "engine/core/config_json.h"
#include "engine/launch/command_capture.h"
#include "engine/launch/ssh_remote.h"

namespace parm::cli {
namespace {

namespace fs = std::filesystem;

std::string last_line(const std::string& text) {
  std::string out, line;
  for (char ch : text) {
    if (ch == '\n') {
      if (!line.empty()) out = line;
      line.clear();
    } else {
      line += ch;
    }
  }
  return line.empty() ? out : line;
}

}  // namespace

int submit_remote_slurm_run(const Config& c, const SlurmOptions& s, const JobRunFlags& f, bool dry_run) {
  check_slurm_options(c, s);
  const std::string& host = s.remote;
  const std::string who = "parm run: --remote " + host;
  if (f.db_path.empty())
    refuse_line(who + ": needs --db (the run is stored in the project, on a folder the login host shares)");
  const std::string ssh = find_program(process_env(), "SSH", "ssh");
  if (ssh.empty()) refuse_line(who + ": ssh not found: put OpenSSH's ssh on PATH (or set SSH)");

  const fs::path project = fs::absolute(f.db_path);
  const fs::path folder = project.parent_path() / "slurm";
  std::error_code ec;
  fs::create_directories(folder, ec);
  if (ec) refuse_line(who + ": cannot make " + folder.string() + ": " + ec.message(), 1);
  const std::string config_path = (folder / (job_stem(c) + ".json")).string();
  save_config_file(c, config_path);

  // The host answers and sees the project's folder at the same path (the config just written there).
  const CommandResult probe = run_command(remote::ssh_argv(
      ssh, host, remote::remote_line({"test", "-f", config_path}) + " && echo parm-remote-sees-the-project"));
  if (probe.output.find("parm-remote-sees-the-project") == std::string::npos) {
    fs::remove(config_path, ec);
    if (probe.exit_code == 255) refuse_line(who + ": ssh could not connect: " + last_line(probe.output), 1);
    refuse_line(who + ": " + folder.string() +
                " is not there at the same path: --remote needs the project on a folder both machines share");
  }

  std::vector<std::string> words = {s.remote_parm, "run", config_path, "--slurm"};
  if (!s.partition.empty()) words.insert(words.end(), {"--partition", s.partition});
  if (!s.account.empty()) words.insert(words.end(), {"--account", s.account});
  if (!s.time_limit.empty()) words.insert(words.end(), {"--time", s.time_limit});
  if (s.nodes > 0) words.insert(words.end(), {"--nodes", std::to_string(s.nodes)});
  const std::vector<std::string> flags = job_run_flag_words(f);
  words.insert(words.end(), flags.begin(), flags.end());
  if (dry_run) words.push_back("--dry-run");
  const std::string line =
      "cd " + remote::remote_line({project.parent_path().string()}) + " && " + remote::remote_line(words);
  std::cerr << "parm run: submitting on " << host << " over ssh" << '\n';
  const remote::StreamOutcome o = remote::run_streaming(remote::ssh_argv(ssh, host, line));

  if (o.signal != 0) {
    const std::string how = o.signal == SIGINT ? "SIGINT" : "SIGTERM";
    if (o.job_id.empty()) {
      std::cerr << "parm run: interrupted (" << how << ") before a job was submitted on " << host << '\n';
    } else {
      const CommandResult cancel =
          run_command(remote::ssh_argv(ssh, host, remote::remote_line({"scancel", o.job_id})));
      std::cerr << "parm run: Slurm job " << o.job_id << " on " << host
                << (cancel.exit_code == 0 ? " cancelled"
                                          : " could not be cancelled (" + last_line(cancel.output) + ")")
                << ": parm run was interrupted (" << how << "); nothing was stored as complete" << '\n';
    }
    return o.signal == SIGINT ? 130 : 143;
  }
  if (o.exit_code == 255) {
    std::cerr << who << ": the connection failed: " << o.last_line
              << (o.job_id.empty() ? std::string()
                                   : " (Slurm job " + o.job_id + " may still run there: ssh " + host +
                                         " squeue -j " + o.job_id + ")")
              << '\n';
    return 1;
  }
  if (o.exit_code == 127) {
    std::cerr << who << ": " << s.remote_parm << " not found there (--remote-parm PATH names it)" << '\n';
    return 2;
  }
  return o.exit_code;  // the remote parm run said how its job ended, on its last line
}

}  // namespace parm::cli
