#include "engine/cli/distributed_report.h"

#include <cstdio>
#include <map>
#include <string>

#include "engine/cli/run_model.h"
#include "engine/cli/verify_table.h"
#include "engine/core/rank_devices.h"

namespace parm::cli {

void print_distributed_text(const RunResult& result, const std::vector<ScheduleSummary>& rows) {
  const Config& c = result.config;
  const ParallelConfig& p = c.parallel;
  std::printf("parm run: config %s, %lld ranks (%lld node%s x %lld), backend %s, mp %lld esp %lld ep %lld\n",
              c.name.c_str(), (long long)p.ranks, (long long)p.nodes(), p.nodes() == 1 ? "" : "s",
              (long long)p.gpus_per_node, result.backend.c_str(), (long long)p.mp, (long long)p.esp,
              (long long)p.ep());
  for (const std::string& line : device_lines(result.ranks)) std::printf("devices: %s\n", line.c_str());
  if (result.model) {
    print_model_table(c, rows, schedule_spreads(result));
    return;
  }
  print_summary_table(c, rows, schedule_spreads(result));
  print_verify_table(verify_reports(result));
}

nlohmann::json distributed_json(const RunResult& result, const std::vector<ScheduleSummary>& rows) {
  const Config& c = result.config;
  const auto reports = verify_reports(result);
  nlohmann::json schedules = nlohmann::json::array();
  const std::map<ScheduleKind, ScheduleSpreads> spreads = schedule_spreads(result);
  for (const ScheduleSummary& r : rows)
    schedules.push_back(result.model ? model_row_json(r, spreads) : summary_row_json(r, spreads));
  for (auto& row : schedules)  // --verify: the schedule's report
    for (const auto& [kind, v] : reports)
      if (row["schedule"] == std::string(to_string(kind))) row["verify"] = to_json(v);
  nlohmann::json verify = nullptr;  // null without --verify
  if (!reports.empty())
    verify = {{"passed", verify_failures(reports).empty()}, {"failures", verify_failures(reports)}};
  return {{"config", c.name},
          {"ranks", c.parallel.ranks},
          {"nodes", c.parallel.nodes()},
          {"gpus_per_node", c.parallel.gpus_per_node},
          {"engine", "distributed"},
          {"unit", result.model ? "model" : "layer"},
          {"backend", result.backend},
          {"devices", device_lines(result.ranks)},
          {"warmup", c.run.warmup},
          {"iterations", c.run.iterations},
          {"summary", schedules},
          {"verify", verify},
          {"raw", to_json(result)}};
}

}  // namespace parm::cli
