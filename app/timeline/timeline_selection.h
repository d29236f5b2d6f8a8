// What the user picked on the timeline, apart from the hover: one clicked event, a set of highlighted ops
// (search matches or TimelineWidget::selectOps) that dims the rest, and whether flow arrows are drawn for the
// selected collective only. Plus the one rule for what a drawn range means: display time converted per
// schedule section with that section's own offset (engine/model/run_comparison.h ScheduleRanges), so a range
// drawn in one-iteration mode covers the same iteration-relative window of every schedule.
#pragma once

#include <QString>
#include <cstdint>
#include <functional>
#include <vector>

#include "engine/model/run_comparison.h"

namespace parm::app {

class TimelineData;
struct TimelineEvent;

// One measured or predicted event (an index into TimelineData::measured() or predicted()), or none.
struct EventRef {
  bool predicted = false;
  std::int32_t index = -1;
  bool valid() const { return index >= 0; }
  friend bool operator==(const EventRef&, const EventRef&) = default;
};

struct TimelineMarks {
  EventRef selected;
  std::vector<std::int32_t> highlighted;  // measured() indices, ascending; empty: nothing dimmed
  bool flowsSelectedOnly = false;         // flow arrows of the selected collective only
};

// The event a reference names, nullptr when it is out of range (a stale reference after another load).
const TimelineEvent* eventOf(const TimelineData& data, EventRef ref);

// Display range [a, b] of the current build as one run-origin range per schedule section (run-origin =
// display
// + the section's offset). Whole-run mode: every schedule gets the same range (side by side: each column's).
ScheduleRanges scheduleRangesFor(const TimelineData& data, std::int64_t displayA, std::int64_t displayB);

// Measured events of `schedule` (empty: every schedule) shown in the current build for which `which` is true,
// ascending by index.
std::vector<std::int32_t> shownMeasured(const TimelineData& data, const QString& schedule,
                                        const std::function<bool(const TimelineEvent&)>& which);

}  // namespace parm::app
