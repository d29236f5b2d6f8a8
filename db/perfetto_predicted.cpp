// The predicted timeline of the Perfetto export (perfetto_parts.h): a "Predicted" process beside the ranks.
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "db/perfetto_parts.h"

namespace parm::db {
namespace {

constexpr int kLanesPerSchedule = 8;  // tid = schedule order * 8 + lane

}  // namespace

void write_predicted_tracks(const Database& db, std::int64_t run, TextWriter& w, Separator& sep,
                            QuotedNames& names, const ScheduleStarts& starts) {
  const std::vector<EventRow> rows = db.predictions(run);
  if (rows.empty()) return;
  // Schedules in the order they ran (measured start), those never measured after them by name id.
  std::vector<std::int32_t> order;
  for (const EventRow& r : rows)
    if (std::find(order.begin(), order.end(), r.schedule) == order.end()) order.push_back(r.schedule);
  const auto start_of = [&](std::int32_t schedule) {
    const auto it = starts.find(schedule);
    return it == starts.end() ? std::pair<bool, std::int64_t>{true, schedule}
                              : std::pair<bool, std::int64_t>{false, it->second};
  };
  std::sort(order.begin(), order.end(),
            [&](std::int32_t a, std::int32_t b) { return start_of(a) < start_of(b); });
  std::map<std::int32_t, int> index;
  for (std::size_t i = 0; i < order.size(); ++i) index[order[i]] = static_cast<int>(i);

  std::map<int, std::pair<std::int32_t, int>> threads;  // tid -> (schedule, lane)
  for (const EventRow& r : rows) {
    const auto placed = starts.find(r.schedule);
    const std::int64_t offset = placed == starts.end() ? 0 : placed->second;
    const int lane = std::clamp(r.lane, 0, kLanesPerSchedule - 1);
    const int tid = index[r.schedule] * kLanesPerSchedule + lane;
    threads[tid] = {r.schedule, lane};
    w << sep() << "{\"ph\":\"X\",\"pid\":" << kPredictedPid << ",\"tid\":" << tid << ",\"ts\":";
    w.micros(offset + r.start_ns);
    w << ",\"dur\":";
    w.micros(std::max<std::int64_t>(0, r.end_ns - r.start_ns));
    const std::string& op = names.quoted(r.op);
    w << ",\"name\":" << op << ",\"cat\":\"predicted\",\"args\":{\"schedule\":" << names.quoted(r.schedule)
      << ",\"op\":" << op << ",\"group\":" << names.quoted(r.group)
      << ",\"purpose\":" << names.quoted(r.purpose) << ",\"chunk\":" << r.chunk << ",\"bytes\":" << r.bytes
      << ",\"phase\":" << (r.phase == 0 ? "\"fwd\"" : "\"bwd\"") << ",\"predicted\":true}}";
  }
  write_metadata(w, sep, "process_name", kPredictedPid, nullptr, "name", "\"Predicted\"");
  write_metadata(w, sep, "process_sort_index", kPredictedPid, nullptr, "sort_index",
                 std::to_string(kPredictedPid));
  for (const auto& [tid, what] : threads) {
    const std::string& schedule = names.quoted(what.first);
    const std::string label =
        schedule.substr(0, schedule.size() - 1) + " " + perfetto_lane_name(what.second) + " (predicted)\"";
    write_metadata(w, sep, "thread_name", kPredictedPid, &tid, "name", label);
    write_metadata(w, sep, "thread_sort_index", kPredictedPid, &tid, "sort_index", std::to_string(tid));
  }
}

}  // namespace parm::db
