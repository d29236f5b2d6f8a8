#include "engine/run/trace_collection.h"

#include <cstring>
#include <stdexcept>

namespace parm {
namespace {

constexpr int kPingTag = 0x7a11;

// A flat byte image of one RankTrace: header ints, names as NUL-terminated strings, then the POD events.
std::vector<char> serialize(const RankTrace& t) {
  std::vector<char> out;
  auto put = [&out](const void* p, std::size_t n) {
    const char* c = static_cast<const char*>(p);
    out.insert(out.end(), c, c + n);
  };
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

profiler::ClockOffset measure_clock_offset(MPI_Comm comm, int rounds) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  profiler::ClockOffset mine;
  for (int peer = 1; peer < size; ++peer) {
    if (rank == 0) {
      std::vector<profiler::PingSample> samples;
      for (int i = 0; i < rounds; ++i) {
        profiler::PingSample s;
        s.local_send_ns = profiler::now_ns();
        MPI_Send(&s.local_send_ns, 1, MPI_INT64_T, peer, kPingTag, comm);
        MPI_Recv(&s.remote_ns, 1, MPI_INT64_T, peer, kPingTag, comm, MPI_STATUS_IGNORE);
        s.local_recv_ns = profiler::now_ns();
        samples.push_back(s);
      }
      const profiler::ClockOffset o = profiler::estimate_offset(samples);
      const double pair[2] = {o.offset_ns, o.uncertainty_ns};
      MPI_Send(pair, 2, MPI_DOUBLE, peer, kPingTag, comm);
    } else if (rank == peer) {
      for (int i = 0; i < rounds; ++i) {
        std::int64_t ping = 0;
        MPI_Recv(&ping, 1, MPI_INT64_T, 0, kPingTag, comm, MPI_STATUS_IGNORE);
        const std::int64_t now = profiler::now_ns();
        MPI_Send(&now, 1, MPI_INT64_T, 0, kPingTag, comm);
      }
      double pair[2] = {0, 0};
      MPI_Recv(pair, 2, MPI_DOUBLE, 0, kPingTag, comm, MPI_STATUS_IGNORE);
      mine = {pair[0], pair[1]};
    }
  }
  return mine;
}

std::vector<RankTrace> gather_traces(MPI_Comm comm, const RankTrace& trace) {
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  const std::vector<char> bytes = serialize(trace);
  // Sizes as int64 so a large trace is refused clearly instead of overflowing MPI's int counts.
  const std::int64_t n = static_cast<std::int64_t>(bytes.size());
  std::vector<std::int64_t> sizes(rank == 0 ? size : 0);
  MPI_Gather(&n, 1, MPI_INT64_T, sizes.data(), 1, MPI_INT64_T, 0, comm);
  std::vector<RankTrace> out;
  if (rank == 0) {
    std::int64_t total = 0;
    for (auto s : sizes) total += s;
    if (total > INT32_MAX)
      throw std::runtime_error("trace gather: " + std::to_string(total) +
                               " bytes exceed one MPI message; trace fewer iterations");
  }
  std::vector<int> counts, displs;
  std::vector<char> all;
  if (rank == 0) {
    int offset = 0;
    for (auto s : sizes) {
      counts.push_back(static_cast<int>(s));
      displs.push_back(offset);
      offset += static_cast<int>(s);
    }
    all.resize(static_cast<std::size_t>(offset));
  }
  MPI_Gatherv(bytes.data(), static_cast<int>(n), MPI_CHAR, all.data(), counts.data(), displs.data(), MPI_CHAR,
              0, comm);
  if (rank == 0)
    for (int r = 0; r < size; ++r)
      out.push_back(deserialize(all.data() + displs[static_cast<std::size_t>(r)],
                                static_cast<std::size_t>(counts[static_cast<std::size_t>(r)])));
  return out;
}

double store_traces(db::Database& db, std::int64_t run, std::int64_t origin_ns,
                    const std::vector<RankTrace>& traces) {
  std::vector<db::RankInfo> ranks;
  double worst_uncertainty = 0;
  for (const RankTrace& t : traces) {
    ranks.push_back(
        {t.rank, t.host, "cpu", t.clock.start.offset_ns, t.clock.uncertainty_ns(), t.clock.drift_ppm});
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
