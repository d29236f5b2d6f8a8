#include "engine/run/trace_collection.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <type_traits>
#include <utility>

#include "db/gpu_activity.h"
#include "engine/run/gpu_trace_rows.h"

namespace parm {
namespace {

// Records that cross the gather as raw bytes: a rank and rank 0 run the same binary.
template <typename T>
void put_vector(std::string& out, const std::vector<T>& v) {
  static_assert(std::is_trivially_copyable_v<T>);
  out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

class Reader {
 public:
  Reader(const char* p, std::size_t size) : p_(p), end_(p + size) {}
  void take(void* dst, std::size_t n) {
    if (n > static_cast<std::size_t>(end_ - p_))
      throw std::runtime_error("trace gather: truncated rank trace");
    std::memcpy(dst, p_, n);
    p_ += n;
  }
  std::string take_string() {
    const char* nul = static_cast<const char*>(std::memchr(p_, 0, static_cast<std::size_t>(end_ - p_)));
    if (!nul) throw std::runtime_error("trace gather: truncated name");
    std::string s(p_, nul);
    p_ = nul + 1;
    return s;
  }
  template <typename T>
  void take_vector(std::vector<T>& v, std::int64_t count) {
    static_assert(std::is_trivially_copyable_v<T>);
    if (count < 0 || static_cast<std::size_t>(count) > static_cast<std::size_t>(end_ - p_) / sizeof(T))
      throw std::runtime_error("trace gather: truncated rank trace");
    v.resize(static_cast<std::size_t>(count));
    take(v.data(), v.size() * sizeof(T));
  }

 private:
  const char* p_;
  const char* end_;
};

void put_gpu(std::string& out, const profiler::GpuActivity& g) {
  const std::int64_t header[9] = {
      static_cast<std::int64_t>(g.names.size()),   static_cast<std::int64_t>(g.kernels.size()),
      static_cast<std::int64_t>(g.memcpys.size()), static_cast<std::int64_t>(g.memsets.size()),
      static_cast<std::int64_t>(g.runtime.size()), static_cast<std::int64_t>(g.overheads.size()),
      static_cast<std::int64_t>(g.nvtx.size()),    g.dropped_records,
      static_cast<std::int64_t>(g.process_id)};
  out.append(reinterpret_cast<const char*>(header), sizeof header);
  out.append(g.unavailable.c_str(), g.unavailable.size() + 1);
  for (const auto& n : g.names) out.append(n.c_str(), n.size() + 1);
  put_vector(out, g.kernels);
  put_vector(out, g.memcpys);
  put_vector(out, g.memsets);
  put_vector(out, g.runtime);
  put_vector(out, g.overheads);
  put_vector(out, g.nvtx);
}

profiler::GpuActivity take_gpu(Reader& in) {
  profiler::GpuActivity g;
  std::int64_t header[9];
  in.take(header, sizeof header);
  g.dropped_records = header[7];
  g.process_id = static_cast<std::uint32_t>(header[8]);
  g.unavailable = in.take_string();
  for (std::int64_t i = 0; i < header[0]; ++i) g.names.push_back(in.take_string());
  in.take_vector(g.kernels, header[1]);
  in.take_vector(g.memcpys, header[2]);
  in.take_vector(g.memsets, header[3]);
  in.take_vector(g.runtime, header[4]);
  in.take_vector(g.overheads, header[5]);
  in.take_vector(g.nvtx, header[6]);
  return g;
}

}  // namespace

// Header ints, clock, host and names as NUL-terminated strings, the POD events, then the GPU activity.
std::string serialize_trace(const RankTrace& t) {
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
  put_vector(out, t.events);
  put_gpu(out, t.gpu);
  return out;
}

RankTrace deserialize_trace(const char* p, std::size_t size) {
  Reader in(p, size);
  RankTrace t;
  std::int64_t header[6];
  in.take(header, sizeof header);
  double clock[5];
  in.take(clock, sizeof clock);
  t.rank = static_cast<int>(header[0]);
  t.start_local_ns = header[3];
  t.end_local_ns = header[4];
  t.overflow = static_cast<std::size_t>(header[5]);
  t.clock.start = {clock[0], clock[1]};
  t.clock.end = {clock[2], clock[3]};
  t.clock.drift_ppm = clock[4];
  t.host = in.take_string();
  for (std::int64_t i = 0; i < header[1]; ++i) t.names.push_back(in.take_string());
  in.take_vector(t.events, header[2]);
  t.gpu = take_gpu(in);
  return t;
}

std::vector<std::string> capture_problems(const std::vector<RankTrace>& traces) {
  std::vector<std::pair<std::string, std::string>> problems;  // reason, ranks
  for (const RankTrace& t : traces) {
    if (t.gpu.unavailable.empty()) continue;
    auto it = std::find_if(problems.begin(), problems.end(),
                           [&](const auto& p) { return p.first == t.gpu.unavailable; });
    if (it == problems.end()) {
      problems.push_back({t.gpu.unavailable, std::to_string(t.rank)});
    } else {
      it->second += "," + std::to_string(t.rank);
    }
  }
  std::vector<std::string> lines;
  for (const auto& [reason, ranks] : problems)
    lines.push_back(reason + (traces.size() > 1 ? " (rank " + ranks + ")" : std::string()));
  return lines;
}

std::vector<RankTrace> gather_traces(const comm::MpiWorld& world, const RankTrace& trace) {
  std::vector<std::string> parts;
  try {
    parts = world.gather_to_root(serialize_trace(trace));
  } catch (const std::length_error& e) {
    throw std::runtime_error(std::string("trace gather: ") + e.what() + "; trace fewer iterations");
  }
  std::vector<RankTrace> out;
  for (const std::string& part : parts) out.push_back(deserialize_trace(part.data(), part.size()));
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
  const auto device_of = [&](const RankTrace& t) {
    const bool known = t.rank >= 0 && static_cast<std::size_t>(t.rank) < results.size();
    return known ? results[static_cast<std::size_t>(t.rank)].device : RankDevice{};
  };
  for (const RankTrace& t : traces) {
    ranks.push_back(rank_row(t, device_of(t)));
    worst_uncertainty = std::max(worst_uncertainty, t.clock.uncertainty_ns());
  }
  db.add_ranks(run, ranks);
  db::GpuActivityRows gpu_rows;
  for (const RankTrace& t : traces) {
    std::vector<std::int32_t> ids;  // this rank's name ids -> database StringIds
    for (const auto& n : t.names) ids.push_back(db.intern(n));
    auto id = [&ids](std::int32_t local) {
      return local >= 0 && local < std::int32_t(ids.size()) ? ids[std::size_t(local)] : 0;
    };
    const RankClock clock{t.clock, t.start_local_ns, t.end_local_ns, origin_ns};
    std::vector<db::EventRow> rows;
    rows.reserve(t.events.size());
    for (const auto& e : t.events) {
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
      r.start_ns = clock.aligned(e.start_ns, e.start_ns);
      r.end_ns = clock.aligned(e.end_ns, e.start_ns);
      rows.push_back(r);
    }
    const std::int64_t first_id = db.add_events(run, rows);
    append_gpu_rows(gpu_rows, t.rank, t.gpu, t.events, first_id, clock, device_of(t));
  }
  if (!gpu_rows.captures.empty()) db::add_gpu_activity(db, run, gpu_rows);
  return worst_uncertainty;
}

}  // namespace parm
