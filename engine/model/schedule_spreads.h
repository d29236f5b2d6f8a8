// Every measured time with its noise: per schedule one sample per measured iteration, the slowest rank's
// forward, backward and layer (forward + backward) time, and their spreads (spread.h). `parm run`'s table,
// `parm show`, `parm validate` and the measured-best rule (measured_best.h) all read the iterations this way,
// so a median printed anywhere is the p50 of the spread printed next to it.
#pragma once

#include <map>
#include <vector>

#include "engine/core/run_result.h"
#include "engine/model/spread.h"

namespace parm {

// Per iteration, the max over ranks (an iteration lasts as long as its slowest rank), in ms. The layer
// sample is the slowest rank's forward + backward, not the sum of the two maxima.
struct IterationSamples {
  std::vector<double> forward_ms;
  std::vector<double> backward_ms;
  std::vector<double> layer_ms;
};

struct ScheduleSpreads {
  Spread forward_ms;
  Spread backward_ms;
  Spread layer_ms;
};

// Schedules in rank 0's run order; iterations = the fewest any rank recorded for that schedule.
std::map<ScheduleKind, IterationSamples> iteration_samples(const RunResult& result);
std::map<ScheduleKind, ScheduleSpreads> schedule_spreads(const RunResult& result);

}  // namespace parm
