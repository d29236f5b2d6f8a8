#include "engine/model/measured_best.h"

#include <algorithm>
#include <stdexcept>

#include "engine/model/schedule_spreads.h"
#include "engine/model/timeline_model.h"

namespace parm {

std::map<ScheduleKind, Spread> layer_time_spreads(const RunResult& result) {
  std::map<ScheduleKind, Spread> out;
  for (auto& [kind, samples] : iteration_samples(result)) out[kind] = spread_of(std::move(samples.layer_ms));
  return out;
}

MeasuredBest measured_best(const std::vector<std::pair<ScheduleKind, Spread>>& spreads) {
  const std::pair<ScheduleKind, Spread>* fastest = nullptr;
  for (const auto& s : spreads)
    if (s.second.n > 0 && (!fastest || s.second.p50 < fastest->second.p50)) fastest = &s;
  if (!fastest) throw std::invalid_argument("measured_best: no schedule has a measured time");
  MeasuredBest out;
  out.fastest = fastest->first;
  std::vector<std::pair<ScheduleKind, double>> snapped;  // the tied ones at one time: registry rule decides
  for (const auto& [kind, spread] : spreads)
    if (spread.n > 0 && tied_within_noise(spread, fastest->second)) {
      out.tied.push_back(kind);
      snapped.emplace_back(kind, fastest->second.p50);
    }
  std::sort(out.tied.begin(), out.tied.end());
  // The baseline tied with the fastest means nothing measurably beats it: keeping it is the verdict (a
  // switch needs a measured gain). Otherwise the registry's preference breaks the tie among the others.
  if (std::find(out.tied.begin(), out.tied.end(), kSpeedupBaseline) != out.tied.end())
    out.best = kSpeedupBaseline;
  else
    out.best = select_by_time(snapped);
  return out;
}

}  // namespace parm
