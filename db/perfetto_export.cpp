// Chrome trace JSON written as text while the events stream out of SQLite: memory stays at one row plus the
// (small) list of collective members needed for the flow arrows and the ops that launched GPU work (their
// tracks: perfetto_gpu.cpp). Schedule and iteration parents come first (perfetto_nesting.cpp), the predicted
// tracks last (perfetto_predicted.cpp).
#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "db/exporters.h"
#include "db/perfetto_parts.h"
#include "db/sqlite_stmt.h"
#include "db/text_writer.h"

namespace parm::db {

std::string perfetto_lane_name(int lane) {
  switch (lane) {
    case 0:
      return "compute";
    case 1:
      return "intra-node";
    case 2:
      return "inter-node";
    default:
      return "lane " + std::to_string(lane);
  }
}
namespace {

// One rank's part of one collective, enough to place a flow event on its slice.
struct Member {
  std::int32_t schedule, iteration, phase, group, comm;
  std::int64_t seq;
  std::int32_t rank, lane, op;
  std::int64_t start_ns;

  auto key() const { return std::tie(schedule, iteration, phase, group, comm, seq); }
};

void write_flows(TextWriter& w, Separator& sep, std::vector<Member>& members, QuotedNames& names) {
  std::sort(members.begin(), members.end(), [](const Member& a, const Member& b) {
    return std::tie(a.schedule, a.iteration, a.phase, a.group, a.comm, a.seq, a.rank, a.start_ns) <
           std::tie(b.schedule, b.iteration, b.phase, b.group, b.comm, b.seq, b.rank, b.start_ns);
  });
  std::int64_t next_id = 1;
  for (std::size_t begin = 0; begin < members.size();) {
    std::size_t end = begin + 1;
    while (end < members.size() && members[end].key() == members[begin].key()) ++end;
    // First event per rank, in rank order: one arrow chain per collective.
    std::vector<const Member*> chain;
    for (std::size_t i = begin; i < end; ++i)
      if (chain.empty() || chain.back()->rank != members[i].rank) chain.push_back(&members[i]);
    if (chain.size() >= 2) {
      const std::int64_t id = next_id++;
      const std::string& name = names.quoted(chain.front()->op);
      for (std::size_t i = 0; i < chain.size(); ++i) {
        const char* ph = i == 0 ? "s" : (i + 1 == chain.size() ? "f" : "t");
        w << sep() << "{\"ph\":\"" << ph << "\",\"bp\":\"e\",\"cat\":\"collective\",\"name\":" << name
          << ",\"id\":" << id << ",\"pid\":" << chain[i]->rank << ",\"tid\":" << chain[i]->lane << ",\"ts\":";
        w.micros(chain[i]->start_ns);
        w << '}';
      }
    }
    begin = end;
  }
}

}  // namespace

void export_perfetto(const Database& db, std::int64_t run, std::ostream& out) {
  const std::optional<RunInfo> info = db.run(run);
  if (!info) throw DbError(db.path() + ": no run " + std::to_string(run));
  QuotedNames names(db);
  TextWriter w(out);
  w << "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"run\":" << run << ",\"name\":" << json_quote(info->name)
    << ",\"kind\":" << json_quote(info->kind) << ",\"started_at\":" << json_quote(info->started_at)
    << ",\"complete\":" << (info->complete ? "true" : "false") << "},\n\"traceEvents\":[";

  // Ranks of the ranks table and every (rank, lane) seen in the events get name and sort metadata at the end.
  std::map<int, std::string> hosts;
  for (const RankInfo& r : db.ranks(run)) hosts[r.rank] = r.host;
  std::map<std::pair<int, int>, std::string> lane_names;
  for (const LaneName& l : db.lane_names(run)) lane_names[{l.rank, l.lane}] = l.name;

  Stmt s(db.handle(),
         "SELECT rank, lane, schedule, iteration, phase, op, grp, purpose, comm, chunk, bytes, seq, "
         "start_ns, end_ns, id "
         "FROM events WHERE run = ? ORDER BY rank, start_ns");
  s.bind(1, run);
  std::set<std::pair<int, int>> lanes;
  std::pair<int, int> last_lane{-1, -1};
  std::vector<Member> members;
  const std::unordered_set<std::int64_t> launching = launching_event_ids(db, run);
  std::unordered_map<std::int64_t, LaunchingOp> ops;  // only the ops that launched GPU work
  Separator sep;
  const ScheduleStarts starts = write_parent_slices(db, run, w, sep, names);
  while (s.step()) {
    const int rank = s.i32(0), lane = s.i32(1);
    const std::int32_t schedule = s.i32(2), iteration = s.i32(3), phase = s.i32(4), op = s.i32(5),
                       group = s.i32(6), purpose = s.i32(7), comm = s.i32(8), chunk = s.i32(9);
    const std::int64_t bytes = s.i64(10), seq = s.i64(11), start = s.i64(12), end = s.i64(13);
    if (std::pair{rank, lane} != last_lane) {
      last_lane = {rank, lane};
      lanes.insert(last_lane);
    }
    w << sep() << "{\"ph\":\"X\",\"pid\":" << rank << ",\"tid\":" << lane << ",\"ts\":";
    w.micros(start);
    w << ",\"dur\":";
    w.micros(std::max<std::int64_t>(0, end - start));
    const std::string& op_name = names.quoted(op);
    w << ",\"name\":" << op_name << ",\"cat\":" << names.quoted(group)
      << ",\"args\":{\"schedule\":" << names.quoted(schedule) << ",\"op\":" << op_name
      << ",\"group\":" << names.quoted(group) << ",\"purpose\":" << names.quoted(purpose)
      << ",\"comm\":" << comm << ",\"bytes\":" << bytes << ",\"chunk\":" << chunk
      << ",\"iteration\":" << iteration << ",\"phase\":" << (phase == 0 ? "\"fwd\"" : "\"bwd\"")
      << ",\"seq\":" << seq << "}}";
    if (seq >= 0) members.push_back({schedule, iteration, phase, group, comm, seq, rank, lane, op, start});
    if (const std::int64_t id = s.i64(14); launching.count(id))
      ops[id] = {lane, schedule, op, iteration, chunk, start};
  }
  write_flows(w, sep, members, names);
  write_gpu_tracks(db, run, w, sep, names, ops);
  write_predicted_tracks(db, run, w, sep, names, starts);

  std::set<int> ranks;
  for (const auto& [rank, host] : hosts) ranks.insert(rank);
  for (const auto& [rank, lane] : lanes) ranks.insert(rank);
  for (int rank : ranks) {
    const auto host = hosts.find(rank);
    const std::string label = "rank " + std::to_string(rank) +
                              (host != hosts.end() && !host->second.empty() ? " (" + host->second + ")" : "");
    write_metadata(w, sep, "process_name", rank, nullptr, "name", json_quote(label));
    write_metadata(w, sep, "process_sort_index", rank, nullptr, "sort_index", std::to_string(rank));
  }
  for (const auto& [rank, lane] : lanes) {
    const auto named = lane_names.find({rank, lane});
    const std::string label = named != lane_names.end() ? named->second : perfetto_lane_name(lane);
    write_metadata(w, sep, "thread_name", rank, &lane, "name", json_quote(label));
    write_metadata(w, sep, "thread_sort_index", rank, &lane, "sort_index", std::to_string(lane));
  }
  w << "\n]}\n";
  w.flush();
  if (!out) throw DbError("cannot write the Perfetto export of run " + std::to_string(run));
}

}  // namespace parm::db
