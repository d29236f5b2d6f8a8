// Wait versus transfer per op: for each (schedule, phase, op, purpose) of the collectives, the time spent
// waiting for the last member to arrive and the transfer itself (MeasuredOps::Interval::wait_ns, from the
// cross-rank matching). Per iteration the slowest rank's (the rank with the largest summed duration of that
// key, as aggregate_measured_ops) summed wait and summed transfer; each the median over iterations (so wait
// + transfer is the per-op time up to the median of an even count). Local ops have no entry.
#pragma once

#include <map>
#include <optional>

#include "engine/model/run_comparison.h"

namespace parm {

struct WaitTransfer {
  double wait_ms = 0;
  double transfer_ms = 0;
};

std::map<OpKey, WaitTransfer> aggregate_wait_transfer(const MeasuredOps& ops,
                                                      const std::optional<TimeRange>& range = std::nullopt);
std::map<OpKey, WaitTransfer> aggregate_wait_transfer(const MeasuredOps& ops, const ScheduleRanges& ranges);

}  // namespace parm
