#include "engine/launch/slurm_job.h"

#include <algorithm>
#include <cctype>
#include <regex>
#include <sstream>

namespace parm::slurm {
namespace {

void directive(std::string& out, const std::string& option, const std::string& value) {
  out += "#SBATCH --" + option + (value.empty() ? "" : "=" + value) + "\n";
}

}  // namespace

std::string sbatch_script(const JobRequest& r, std::string_view made_by) {
  std::string s = "#!/bin/bash\n";
  directive(s, "job-name", r.job_name);
  directive(s, "ntasks", std::to_string(r.ranks));
  if (r.nodes > 0) directive(s, "nodes", std::to_string(r.nodes));
  if (r.tasks_per_node > 0) directive(s, "ntasks-per-node", std::to_string(r.tasks_per_node));
  if (r.gpus_per_node > 0) directive(s, "gpus-per-node", std::to_string(r.gpus_per_node));
  if (r.gpus_per_task > 0) directive(s, "gpus-per-task", std::to_string(r.gpus_per_task));
  if (!r.partition.empty()) directive(s, "partition", r.partition);
  if (!r.account.empty()) directive(s, "account", r.account);
  if (!r.time_limit.empty()) directive(s, "time", r.time_limit);
  if (r.overcommit) directive(s, "overcommit", "");
  directive(s, "output", r.out_path);
  directive(s, "error", r.err_path);
  if (!r.workdir.empty()) directive(s, "chdir", r.workdir);
  s += "# " + std::string(made_by) + "\n";
  s += "# The job step is parm run itself, its ranks started by srun on the allocation; submit again with\n";
  s += "# sbatch THIS_FILE.\n";
  s += "set -euo pipefail\n";
  std::string line = "exec";
  for (const std::string& w : r.command) line += " " + shell_quote(w);
  return s + line + "\n";
}

bool valid_time_limit(std::string_view text) {
  static const std::regex time(R"(^(\d+(:\d{1,2}){0,2}|\d+-\d{1,2}(:\d{1,2}){0,2})$)");
  return std::regex_match(text.begin(), text.end(), time);
}

bool valid_slurm_name(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) ||
           std::string_view("_.-+@,:").find(c) != std::string_view::npos;
  });
}

std::optional<JobInfo> parse_scontrol_job(std::string_view line) {
  JobInfo info;
  bool state = false;
  std::istringstream words{std::string(line)};
  std::string word;
  while (words >> word) {
    const auto eq = word.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = word.substr(0, eq), value = word.substr(eq + 1);
    if (key == "JobState") {
      info.state = value;
      state = true;
    } else if (key == "Reason") {
      info.reason = value;
    } else if (key == "ExitCode") {  // "code:signal"
      const auto colon = value.find(':');
      info.exit_code = std::atoi(value.substr(0, colon).c_str());
      if (colon != std::string::npos) info.exit_signal = std::atoi(value.substr(colon + 1).c_str());
    } else if (key == "NodeList") {
      info.nodes = value;
    } else if (key == "TimeLimit") {
      info.time_limit = value;
    }
  }
  if (!state) return std::nullopt;
  return info;
}

bool is_finished(std::string_view state) {
  static constexpr std::string_view kLive[] = {
      "PENDING",   "CONFIGURING", "RUNNING", "COMPLETING",   "SUSPENDED",   "REQUEUED",      "RESIZING",
      "SIGNALING", "STAGE_OUT",   "STOPPED", "REQUEUE_HOLD", "REQUEUE_FED", "RESV_DEL_HOLD", "SPECIAL_EXIT"};
  return !state.empty() && std::find(std::begin(kLive), std::end(kLive), state) == std::end(kLive);
}

std::optional<std::string> parse_job_id(std::string_view out) {
  static const std::regex id(R"(^\s*(\d+)(;\S+)?\s*$)");
  std::string text(out);
  std::smatch m;
  // sbatch may print warnings before the id: the id is the last line.
  std::istringstream lines(text);
  std::string line, last;
  while (std::getline(lines, line))
    if (!line.empty()) last = line;
  if (!std::regex_match(last, m, id)) return std::nullopt;
  return m[1].str();
}

std::string find_tool(const EnvLookup& env, const std::string& name) {
  std::string upper = name;
  std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
  return find_program(env, upper, name);
}

}  // namespace parm::slurm
