#include "engine/model/repeated_runs.h"

#include "engine/model/schedule_spreads.h"

namespace parm {

std::map<ScheduleKind, RepeatedSchedule> aggregate_runs(const std::vector<RunResult>& runs) {
  std::map<ScheduleKind, std::vector<std::vector<double>>> per_run;  // kind -> one sample set per run
  for (const RunResult& run : runs)
    for (auto& [kind, samples] : iteration_samples(run))
      if (!samples.layer_ms.empty()) per_run[kind].push_back(std::move(samples.layer_ms));
  std::map<ScheduleKind, RepeatedSchedule> out;
  for (auto& [kind, sets] : per_run) {
    if (sets.size() != runs.size()) continue;  // a schedule some run lacks is not comparable
    RepeatedSchedule r;
    std::vector<double> pooled;
    for (std::vector<double>& set : sets) {
      pooled.insert(pooled.end(), set.begin(), set.end());
      r.run_medians_ms.push_back(spread_of(std::move(set)).p50);
    }
    r.run_to_run = spread_of(r.run_medians_ms);
    r.measured_ms = r.run_to_run.p50;
    r.relative_range = r.measured_ms > 0 ? (r.run_to_run.max - r.run_to_run.min) / r.measured_ms : 0.0;
    r.pooled = spread_of(std::move(pooled));
    out[kind] = std::move(r);
  }
  return out;
}

MeasuredBest measured_best_of(const std::map<ScheduleKind, RepeatedSchedule>& schedules) {
  std::vector<std::pair<ScheduleKind, Spread>> spreads;
  for (const auto& [kind, r] : schedules) spreads.emplace_back(kind, r.pooled);
  return measured_best(spreads);
}

}  // namespace parm
