#include "engine/model/time_breakdown.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>
#include <tuple>

#include "engine/model/collective_matching.h"
#include "engine/schedules/schedule_kind.h"

namespace parm {

const char* to_string(BreakdownPart part) {
  switch (part) {
    case BreakdownPart::Compute:
      return "compute";
    case BreakdownPart::IntraExposed:
      return "exposed intra-node communication";
    case BreakdownPart::InterExposed:
      return "exposed inter-node communication";
    case BreakdownPart::Hidden:
      return "communication hidden under other work";
    case BreakdownPart::Waiting:
      return "waiting for peers";
    case BreakdownPart::Idle:
      return "idle (gaps between ops)";
  }
  return "?";
}

double TimeBreakdown::total_ms() const {
  return std::accumulate(ms.begin(), ms.end(), 0.0);
}

TimeBreakdown classify_lanes(const std::vector<LaneInterval>& intervals) {
  enum State { Compute, Intra, Inter, Wait, StateCount };
  struct Edge {
    std::int64_t t;
    int state;
    int delta;
  };
  std::vector<Edge> edges;
  edges.reserve(4 * intervals.size());
  auto add = [&](std::int64_t a, std::int64_t b, int state) {
    if (b <= a) return;
    edges.push_back({a, state, +1});
    edges.push_back({b, state, -1});
  };
  for (const LaneInterval& iv : intervals) {
    if (iv.lane != 1 && iv.lane != 2) {
      add(iv.start_ns, iv.end_ns, Compute);
      continue;
    }
    const std::int64_t arrival = std::clamp(iv.start_ns + iv.wait_ns, iv.start_ns, iv.end_ns);
    add(iv.start_ns, arrival, Wait);
    add(arrival, iv.end_ns, iv.lane == 1 ? Intra : Inter);
  }
  TimeBreakdown out;
  if (edges.empty()) return out;
  std::sort(edges.begin(), edges.end(), [](const Edge& a, const Edge& b) { return a.t < b.t; });
  std::array<int, StateCount> active{};
  for (std::size_t i = 0; i < edges.size();) {
    const std::int64_t t = edges[i].t;
    for (; i < edges.size() && edges[i].t == t; ++i) active[edges[i].state] += edges[i].delta;
    if (i == edges.size()) break;
    const double ms = 1e-6 * static_cast<double>(edges[i].t - t);
    const int busy = (active[Compute] > 0) + (active[Intra] > 0) + (active[Inter] > 0);
    BreakdownPart part = BreakdownPart::Idle;
    if (busy >= 2)
      part = BreakdownPart::Hidden;
    else if (active[Compute] > 0)
      part = BreakdownPart::Compute;
    else if (active[Intra] > 0)
      part = BreakdownPart::IntraExposed;
    else if (active[Inter] > 0)
      part = BreakdownPart::InterExposed;
    else if (active[Wait] > 0)
      part = BreakdownPart::Waiting;
    out.ms[static_cast<std::size_t>(part)] += ms;
  }
  return out;
}

namespace {

// Schedule names in registry order, then the rest by name.
std::vector<std::string> ordered(std::set<std::string> names) {
  std::vector<std::string> out;
  for (ScheduleKind k : every_schedule())
    if (names.erase(std::string(to_string(k)))) out.emplace_back(to_string(k));
  out.insert(out.end(), names.begin(), names.end());
  return out;
}

}  // namespace

std::vector<ScheduleBreakdown> time_breakdowns(const std::vector<db::EventRow>& events,
                                               const std::vector<db::EventRow>& predictions,
                                               const db::Database& names) {
  const std::vector<CollectiveSplit> splits = split_collectives(events);
  // schedule id -> iteration -> rank -> intervals
  std::map<std::int32_t, std::map<int, std::map<int, std::vector<LaneInterval>>>> measured;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const db::EventRow& e = events[i];
    if (e.iteration < 0) continue;  // warm-up
    measured[e.schedule][e.iteration][e.rank].push_back({e.lane, e.start_ns, e.end_ns, splits[i].wait_ns});
  }
  std::map<std::int32_t, std::vector<LaneInterval>> predicted;  // one rank, one iteration
  for (const db::EventRow& e : predictions)
    predicted[e.schedule].push_back({e.lane, e.start_ns, e.end_ns, 0});

  std::map<std::string, ScheduleBreakdown> by_name;
  for (const auto& [id, iterations] : measured) {
    // Per iteration its slowest rank, then the median iteration by that rank's span.
    std::vector<std::tuple<std::int64_t, int, int>> spans;  // span, iteration, rank
    for (const auto& [it, ranks] : iterations) {
      std::tuple<std::int64_t, int, int> slowest{-1, it, -1};
      for (const auto& [rank, ivs] : ranks) {
        std::int64_t lo = ivs.front().start_ns, hi = ivs.front().end_ns;
        for (const LaneInterval& iv : ivs) {
          lo = std::min(lo, iv.start_ns);
          hi = std::max(hi, iv.end_ns);
        }
        if (hi - lo > std::get<0>(slowest)) slowest = {hi - lo, it, rank};
      }
      spans.push_back(slowest);
    }
    std::sort(spans.begin(), spans.end());
    const auto& [span, it, rank] = spans[(spans.size() - 1) / 2];
    ScheduleBreakdown& b = by_name[names.string(id)];
    b.measured = classify_lanes(iterations.at(it).at(rank));
    b.measured_iteration = it;
    b.measured_rank = rank;
  }
  for (const auto& [id, ivs] : predicted) by_name[names.string(id)].predicted = classify_lanes(ivs);

  std::set<std::string> keys;
  for (const auto& [name, b] : by_name) keys.insert(name);
  std::vector<ScheduleBreakdown> out;
  for (const std::string& name : ordered(keys)) {
    out.push_back(by_name[name]);
    out.back().schedule = name;
  }
  return out;
}

std::vector<ScheduleBreakdown> time_breakdowns(const db::Database& db, std::int64_t run) {
  return time_breakdowns(db.events(run), db.predictions(run), db);
}

}  // namespace parm
