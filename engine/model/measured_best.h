// Which schedule measured fastest, with the noise rule of spread.h: the fastest median wins unless other
// schedules are tied within noise with it (their p10-p90 layer-time intervals overlap); the tied ones are
// then reported as such. A tie that includes the baseline B_DS goes to B_DS (nothing measurably beats it);
// any other tie is broken only by the registry's preference (select_by_time: unfused first, S1 before S2).
// `parm validate`, compare_run and the GUI's verdict all use this one rule.
#pragma once

#include <map>
#include <utility>
#include <vector>

#include "engine/core/run_result.h"
#include "engine/model/spread.h"

namespace parm {

// Per schedule, the spread of its layer time (ms) over the measured iterations. One sample per iteration:
// the slowest rank's forward + backward, as summarize's total_ms (so p50 is that median); the spread is
// that of the iterations, the ranks enter as the slowest of them (schedule_spreads.h's layer_ms).
std::map<ScheduleKind, Spread> layer_time_spreads(const RunResult& result);

struct MeasuredBest {
  ScheduleKind best = ScheduleKind::B_DS;
  // The fastest median itself (the first given when equal): a choice in `tied` other than this
  // one is right only thanks to the tie.
  ScheduleKind fastest = ScheduleKind::B_DS;
  // Schedules tied within noise with the fastest median, it included, in registry order; one entry: a
  // clear winner.
  std::vector<ScheduleKind> tied;
  bool tie() const { return tied.size() > 1; }
};

// Schedules without a sample are ignored. Throws std::invalid_argument when none has one.
MeasuredBest measured_best(const std::vector<std::pair<ScheduleKind, Spread>>& spreads);

}  // namespace parm
