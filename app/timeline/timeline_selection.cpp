#include "app/timeline/timeline_selection.h"

#include <algorithm>

#include "app/timeline/timeline_data.h"

namespace parm::app {

const TimelineEvent* eventOf(const TimelineData& data, EventRef ref) {
  const auto& events = ref.predicted ? data.predicted() : data.measured();
  if (ref.index < 0 || static_cast<std::size_t>(ref.index) >= events.size()) return nullptr;
  return &events[static_cast<std::size_t>(ref.index)];
}

ScheduleRanges scheduleRangesFor(const TimelineData& data, std::int64_t displayA, std::int64_t displayB) {
  const std::int64_t a = std::min(displayA, displayB), b = std::max(displayA, displayB);
  ScheduleRanges ranges;
  for (const TimelineSection& s : data.sections())
    ranges[s.schedule.toStdString()] = TimeRange{a + s.offset, b + s.offset};
  return ranges;
}

std::vector<std::int32_t> shownMeasured(const TimelineData& data, const QString& schedule,
                                        const std::function<bool(const TimelineEvent&)>& which) {
  int section = -1;
  if (!schedule.isEmpty()) {
    const auto& sections = data.sections();
    for (std::size_t i = 0; i < sections.size(); ++i)
      if (sections[i].schedule == schedule) section = static_cast<int>(i);
    if (section < 0) return {};
  }
  std::vector<std::int32_t> out;
  const auto& events = data.measured();
  for (std::size_t i = 0; i < events.size(); ++i) {
    const TimelineEvent& e = events[i];
    if (e.row < 0 || (section >= 0 && e.section != section)) continue;
    if (!which || which(e)) out.push_back(static_cast<std::int32_t>(i));
  }
  return out;
}

}  // namespace parm::app
