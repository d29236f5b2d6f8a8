#include "engine/cli/show_verdict.h"

#include <iostream>
#include <nlohmann/json.hpp>

#include "engine/model/verdict.h"

namespace parm::cli {
namespace {

nlohmann::json spread_json(const Spread& s) {
  return {{"p10", s.p10}, {"p50", s.p50}, {"p90", s.p90}, {"n", s.n}};
}

nlohmann::json optional_json(const std::optional<std::string>& s) {
  return s ? nlohmann::json(*s) : nlohmann::json(nullptr);
}

}  // namespace

void print_verdict(const db::Database& d, std::int64_t run, bool json) {
  const Verdict v = verdict_for_run(d, run);
  if (!json) {
    std::cout << verdict_summary(v) << '\n';
    return;
  }
  nlohmann::json schedules = nlohmann::json::array();
  for (const ScheduleVerdict& s : v.schedules)
    schedules.push_back({{"schedule", s.schedule},
                         {"layer_ms", spread_json(s.layer_ms)},
                         {"speedup_vs_bds", spread_json(s.speedup)},
                         {"predicted_ms", s.predicted_ms ? nlohmann::json(*s.predicted_ms) : nullptr}});
  const ScheduleVerdict* best = v.measured_best ? v.of(*v.measured_best) : nullptr;
  std::cout << nlohmann::json{{"run", v.run},
                              {"measured_best", optional_json(v.measured_best)},
                              {"measured_tied", v.measured_tied},
                              {"tie", v.tie()},
                              {"best_speedup_vs_bds", best ? spread_json(best->speedup) : nullptr},
                              {"predicted_best", optional_json(v.predicted_best)},
                              {"predicted_source", v.predicted_source},
                              {"link", v.scope.link},
                              {"schedules", schedules},
                              {"summary", verdict_summary(v)}}
                   .dump(2)
            << '\n';
}

}  // namespace parm::cli
