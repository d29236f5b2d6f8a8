#include "engine/run/trace_collection.h"

#include <cstring>
#include <stdexcept>

namespace parm {
namespace {

// A flat byte image of one RankTrace: header ints, names as NUL-terminated strings, then the POD events.
std::string serialize(const RankTrace& t) {
  std::string out;
  auto put = [&out](const void* p, std::size_t n) { out.append(static_cast<const char*>(p), n); };
  const std::int64_t header[6] = {t.rank,
                                  static_cast<std::int64_t>(t.names.size()),
                                  static_cast<std::int64_t>(t.events.size()),
                                  t.start_local_ns,
                                  t.end_local_ns,
                                  static_cast<std::int64_t>(t.overflow)};
  put(header, sizeof header);
  const double clock[5] = {t.clock.start.offset_ns, t.clock.start.uncertainty_ns, t.clock.end.offset_ns,
                           t.clock.end.uncertainty_ns, t.clock.drift_ppm};
  put(clock, sizeof clock);
  put(t.host.c_str(), t.host.size() + 1);
  for (const auto& n : t.names) put(n.c_str(), n.size() + 1);
  put(t.events.data(), t.events.size() * sizeof(profiler::TraceEvent));
  return out;
}

RankTrace deserialize(const char* p, std::size_t size) {
  const char* end = p + size;
  auto take = [&](void* dst, std::size_t n) {
    if (p + n > end) throw std::runtime_error("trace gather: truncated rank trace");
    std::memcpy(dst, p, n);
    p += n;
  };
  auto take_string = [&] {
    const char* nul = static_cast<const char*>(std::memchr(p, 0, static_cast<std::size_t>(end - p)));
    if (!nul) throw std::runtime_error("trace gather: truncated name");
    std::string s(p, nul);
    p = nul + 1;
    return s;
  };
  RankTrace t;
  std::int64_t header[6];
  take(header, sizeof header);
  double clock[5];
  take(clock, sizeof clock);
  t.rank = static_cast<int>(header[0]);
  t.start_local_ns = header[3];
  t.end_local_ns = header[4];
  t.overflow = static_cast<std::size_t>(header[5]);
  t.clock.start = {clock[0], clock[1]};
  t.clock.end = {clock[2], clock[3]};
  t.clock.drift_ppm = clock[4];
  t.host = take_string();
  for (std::int64_t i = 0; i < header[1]; ++i) t.names.push_back(take_string());
  t.events.resize(static_cast<std::size_t>(header[2]));
  take(t.events.data(), t.events.size() * sizeof(profiler::TraceEvent));
  return t;
}

}  // namespace

std::vector<RankTrace> gather_traces(const comm::MpiWorld& world, const RankTrace& trace) {
  std::vector<std::string> parts;
  try {
    parts = world.gather_to_root(serialize(trace));
  } catch (const std::length_error& e) {
    throw std::runtime_error(std::string("trace gather: ") + e.what() + "; trace fewer iterations");
  }
  std::vector<RankTrace> out;
  for (const std::string& part : parts) out.push_back(deserialize(part.data(), part.size()));
  return out;
}

db::RankInfo rank_row(const RankTrace& trace, const RankDevice& device) {
  db::RankInfo r;
  r.rank = trace.rank;
  r.host = trace.host;
  r.device = device.name;
  r.clock_offset_ns = trace.clock.start.offset_ns;
  r.clock_uncertainty_ns = trace.clock.uncertainty_ns();
  r.clock_drift_ppm = trace.clock.drift_ppm;
  r.device_ordinal = device.ordinal;
  r.device_memory_bytes = device.memory_bytes;
  r.device_driver = device.driver;
  r.peak_device_bytes = device.peak_bytes;
  r.device_allocations = device.allocations;
  return r;
}

double store_traces(db::Database& db, std::int64_t run, std::int64_t origin_ns,
                    const std::vector<RankTrace>& traces, const std::vector<RankRunResult>& results) {
  std::vector<db::RankInfo> ranks;
  double worst_uncertainty = 0;
  for (const RankTrace& t : traces) {
    const bool known = t.rank >= 0 && static_cast<std::size_t>(t.rank) < results.size();
    ranks.push_back(rank_row(t, known ? results[static_cast<std::size_t>(t.rank)].device : RankDevice{}));
    worst_uncertainty = std::max(worst_uncertainty, t.clock.uncertainty_ns());
  }
  db.add_ranks(run, ranks);
  for (const RankTrace& t : traces) {
    std::vector<std::int32_t> ids;  // this rank's name ids -> database StringIds
    for (const auto& n : t.names) ids.push_back(db.intern(n));
    auto id = [&ids](std::int32_t local) {
      return local >= 0 && local < std::int32_t(ids.size()) ? ids[std::size_t(local)] : 0;
    };
    std::vector<db::EventRow> rows;
    rows.reserve(t.events.size());
    for (const auto& e : t.events) {
      const double offset = t.clock.offset_at(e.start_ns, t.start_local_ns, t.end_local_ns);
      const auto aligned = [&](std::int64_t local) {
        return static_cast<std::int64_t>(static_cast<double>(local) + offset) - origin_ns;
      };
      db::EventRow r;
      r.rank = t.rank;
      r.lane = e.lane;
      r.schedule = id(e.schedule);
      r.iteration = e.iteration;
      r.phase = e.phase;
      r.op = id(e.op);
      r.group = id(e.group);
      r.purpose = id(e.purpose);
      r.comm = e.comm;
      r.chunk = e.chunk;
      r.bytes = e.bytes;
      r.seq = e.seq;
      r.start_ns = aligned(e.start_ns);
      r.end_ns = aligned(e.end_ns);
      rows.push_back(r);
    }
    db.add_events(run, rows);
  }
  return worst_uncertainty;
}

}  // namespace parm
