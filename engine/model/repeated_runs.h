// One configuration measured K times (`parm validate --repeat K`): how much the runs disagree, which value
// stands for the measurement and which samples decide the measured best. Per schedule:
// - the run-to-run spread: each run's median layer time (slowest rank per iteration, median over
//   iterations); min, median and max of those K medians and the relative range (max - min) / median;
// - the measured value (what errors and regret are computed from): the median of the K medians;
// - the pooled spread: every iteration of every run as one sample set (K x iterations samples), the input of
//   measured_best's noise rule, so a schedule is tied when its pooled p10-p90 overlaps the fastest's.
// K = 1 gives exactly the single run's numbers (measured value = its median, relative range 0).
#pragma once

#include <map>
#include <vector>

#include "engine/core/run_result.h"
#include "engine/model/measured_best.h"
#include "engine/model/spread.h"

namespace parm {

struct RepeatedSchedule {
  std::vector<double> run_medians_ms;  // in run order
  Spread run_to_run;                   // over run_medians_ms: min, p50 (the median of medians), max
  double relative_range = 0;           // (max - min) / median; 0 for one run
  double measured_ms = 0;              // = run_to_run.p50
  Spread pooled;                       // over all runs' iterations together
};

// Schedules every run measured, in registry order (map order). Runs may have different iteration counts.
std::map<ScheduleKind, RepeatedSchedule> aggregate_runs(const std::vector<RunResult>& runs);

// measured_best over the pooled spreads; throws std::invalid_argument when nothing was measured.
MeasuredBest measured_best_of(const std::map<ScheduleKind, RepeatedSchedule>& schedules);

}  // namespace parm
