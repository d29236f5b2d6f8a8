// Schedule and iteration slices of the Perfetto export (perfetto_parts.h): spans per (rank, lane, schedule,
// iteration) from one pass over event_spans before the op rows stream out.
#include <algorithm>
#include <map>
#include <string>
#include <tuple>
#include <unordered_map>
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
  // One pass over the spans table alone (no join, no SQL sort): the op kinds give lane and schedule.
  Stmt kinds(db.handle(), "SELECT id, lane, schedule FROM event_kinds WHERE run = ?");
  kinds.bind(1, run);
  std::unordered_map<std::int64_t, std::pair<int, std::int32_t>> kind_of;  // kind -> (lane, schedule)
  while (kinds.step()) kind_of[kinds.i64(0)] = {kinds.i32(1), kinds.i32(2)};
  Stmt s(db.handle(), "SELECT rank, kind, iteration, start_ns, end_ns FROM event_spans WHERE run = ?");
  s.bind(1, run);
  using Key = std::tuple<int, int, std::int32_t, std::int32_t>;  // rank, lane, schedule, iteration
  std::map<Key, Span> spans;
  Key last_key{-1, -1, -1, -1};
  Span* last = nullptr;
  while (s.step()) {
    const auto kind = kind_of.find(s.i64(1));
    if (kind == kind_of.end()) continue;
    const Key key{s.i32(0), kind->second.first, kind->second.second, s.i32(2)};
    const std::int64_t start = s.i64(3), end = std::max(start, s.i64(4));
    if (!last || key != last_key) {  // consecutive rows mostly share a key: one map lookup per run of them
      auto [it, added] = spans.try_emplace(key, Span{std::get<2>(key), std::get<3>(key), start, end, 0});
      last = &it->second;
      last_key = key;
    }
    last->start_ns = std::min(last->start_ns, start);
    last->end_ns = std::max(last->end_ns, end);
    ++last->ops;
  }
  std::map<std::pair<int, int>, std::vector<Span>> tracks;              // (rank, lane) -> iteration spans
  std::map<std::int32_t, std::pair<std::int32_t, std::int64_t>> first;  // schedule -> (iteration, start)
  for (const auto& [key, span] : spans) {
    tracks[{std::get<0>(key), std::get<1>(key)}].push_back(span);
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
