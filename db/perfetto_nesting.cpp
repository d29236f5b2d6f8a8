// Schedule and iteration slices of the Perfetto export (perfetto_parts.h): spans aggregated in SQL per (rank,
// lane, schedule, iteration), so the op rows still stream one at a time.
#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "db/perfetto_parts.h"
#include "db/sqlite_stmt.h"

namespace parm::db {
namespace {

struct Span {
  std::int32_t schedule = 0, iteration = 0;
  std::int64_t start_ns = 0, end_ns = 0, ops = 0;
};

// Sorted by start, the spans of one level on one track must not overlap (touching is fine).
bool nests(std::vector<Span>& spans) {
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) {
    return std::tie(a.start_ns, a.end_ns) < std::tie(b.start_ns, b.end_ns);
  });
  for (std::size_t i = 1; i < spans.size(); ++i)
    if (spans[i].start_ns < spans[i - 1].end_ns) return false;
  return true;
}

void write_span(TextWriter& w, Separator& sep, int rank, int lane, const Span& s, QuotedNames& names,
                bool iteration_level) {
  w << sep() << "{\"ph\":\"X\",\"pid\":" << rank << ",\"tid\":" << lane << ",\"ts\":";
  w.micros(s.start_ns);
  w << ",\"dur\":";
  w.micros(s.end_ns - s.start_ns);
  const std::string& schedule = names.quoted(s.schedule);
  if (iteration_level) {
    // The name is the schedule's quoted name with the iteration appended inside the quotes.
    const std::string label = s.iteration < 0 ? " warm-up" : " iteration " + std::to_string(s.iteration);
    w << ",\"name\":" << std::string_view(schedule).substr(0, schedule.size() - 1) << label
      << "\",\"cat\":\"iteration\",\"args\":{\"schedule\":" << schedule << ",\"iteration\":" << s.iteration;
  } else {
    w << ",\"name\":" << schedule << ",\"cat\":\"schedule\",\"args\":{\"schedule\":" << schedule;
  }
  w << ",\"ops\":" << s.ops << "}}";
}

}  // namespace

ScheduleStarts write_parent_slices(const Database& db, std::int64_t run, TextWriter& w, Separator& sep,
                                   QuotedNames& names) {
  Stmt s(db.handle(),
         "SELECT rank, lane, schedule, iteration, MIN(start_ns), MAX(end_ns), COUNT(*) FROM events "
         "WHERE run = ? GROUP BY rank, lane, schedule, iteration");
  s.bind(1, run);
  std::map<std::pair<int, int>, std::vector<Span>> tracks;              // (rank, lane) -> iteration spans
  std::map<std::int32_t, std::pair<std::int32_t, std::int64_t>> first;  // schedule -> (iteration, start)
  while (s.step()) {
    const Span span{s.i32(2), s.i32(3), s.i64(4), std::max(s.i64(4), s.i64(5)), s.i64(6)};
    tracks[{s.i32(0), s.i32(1)}].push_back(span);
    if (span.iteration < 0) continue;
    auto [it, added] = first.try_emplace(span.schedule, span.iteration, span.start_ns);
    if (!added && std::pair(span.iteration, span.start_ns) < it->second)
      it->second = {span.iteration, span.start_ns};
  }
  for (auto& [track, iterations] : tracks) {
    std::map<std::int32_t, Span> by_schedule;
    for (const Span& i : iterations) {
      auto [it, added] = by_schedule.try_emplace(i.schedule, i);
      if (added) continue;
      it->second.start_ns = std::min(it->second.start_ns, i.start_ns);
      it->second.end_ns = std::max(it->second.end_ns, i.end_ns);
      it->second.ops += i.ops;
    }
    std::vector<Span> schedules;
    for (const auto& [id, span] : by_schedule) schedules.push_back(span);
    if (nests(schedules))
      for (const Span& span : schedules) write_span(w, sep, track.first, track.second, span, names, false);
    if (nests(iterations))
      for (const Span& span : iterations) write_span(w, sep, track.first, track.second, span, names, true);
  }
  ScheduleStarts starts;
  for (const auto& [schedule, where] : first) starts[schedule] = where.second;
  return starts;
}

}  // namespace parm::db
