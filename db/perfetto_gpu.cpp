// GPU tracks of the Perfetto export (perfetto_parts.h): rows streamed from the activity tables in (rank,
// start) order, a slice each, the launching op looked up in the (small) map of ops that launched GPU work.
#include <algorithm>
#include <map>
#include <tuple>

#include "db/gpu_activity.h"
#include "db/perfetto_parts.h"
#include "db/sqlite_stmt.h"

namespace parm::db {
namespace {

constexpr int kFirstGpuTid = 1000;  // above every lane number, so GPU tracks never collide with lanes

using TrackKey = std::tuple<int, std::int64_t, std::int64_t>;  // (rank, device, stream)

// Every (rank, device, stream) with GPU work, numbered per rank in (device, stream) order.
std::map<TrackKey, int> gpu_tracks(sqlite3* h, std::int64_t run) {
  Stmt s(h,
         "SELECT rank, deviceId, streamId FROM CUPTI_ACTIVITY_KIND_KERNEL WHERE run = ?1 UNION "
         "SELECT rank, deviceId, streamId FROM CUPTI_ACTIVITY_KIND_MEMCPY WHERE run = ?1 UNION "
         "SELECT rank, deviceId, streamId FROM CUPTI_ACTIVITY_KIND_MEMSET WHERE run = ?1 ORDER BY 1, 2, 3");
  s.bind(1, run);
  std::map<TrackKey, int> tracks;
  std::map<int, int> per_rank;
  while (s.step()) tracks[{s.i32(0), s.i64(1), s.i64(2)}] = kFirstGpuTid + per_rank[s.i32(0)]++;
  return tracks;
}

void write_slice_head(TextWriter& w, Separator& sep, int rank, int tid, std::int64_t start,
                      std::int64_t end) {
  w << sep() << "{\"ph\":\"X\",\"pid\":" << rank << ",\"tid\":" << tid << ",\"ts\":";
  w.micros(start);
  w << ",\"dur\":";
  w.micros(std::max<std::int64_t>(0, end - start));
}

void write_op_args(TextWriter& w, QuotedNames& names, const LaunchingOp* op) {
  if (!op) return;
  w << ",\"launched_by\":{\"schedule\":" << names.quoted(op->schedule) << ",\"op\":" << names.quoted(op->op)
    << ",\"iteration\":" << op->iteration << ",\"chunk\":" << op->chunk << "}";
}

const LaunchingOp* find_op(const Stmt& s, int col, const std::unordered_map<std::int64_t, LaunchingOp>& ops) {
  if (s.is_null(col)) return nullptr;
  const auto it = ops.find(s.i64(col));
  return it != ops.end() ? &it->second : nullptr;
}

}  // namespace

std::unordered_set<std::int64_t> launching_event_ids(const Database& db, std::int64_t run) {
  std::unordered_set<std::int64_t> ids;
  if (!has_gpu_tables(db)) return ids;
  Stmt s(db.handle(),
         "SELECT event FROM CUPTI_ACTIVITY_KIND_KERNEL WHERE run = ?1 AND event IS NOT NULL UNION "
         "SELECT event FROM CUPTI_ACTIVITY_KIND_MEMCPY WHERE run = ?1 AND event IS NOT NULL UNION "
         "SELECT event FROM CUPTI_ACTIVITY_KIND_MEMSET WHERE run = ?1 AND event IS NOT NULL");
  s.bind(1, run);
  while (s.step()) ids.insert(s.i64(0));
  return ids;
}

void write_gpu_tracks(const Database& db, std::int64_t run, TextWriter& w, Separator& sep, QuotedNames& names,
                      const std::unordered_map<std::int64_t, LaunchingOp>& ops) {
  if (!has_gpu_tables(db)) return;
  sqlite3* h = db.handle();
  const std::map<TrackKey, int> tracks = gpu_tracks(h, run);
  std::int64_t next_flow = 1;
  {
    Stmt k(h,
           "SELECT k.rank, k.deviceId, k.streamId, k.start, k.end, k.shortName, k.demangledName, k.gridX, "
           "k.gridY, k.gridZ, k.blockX, k.blockY, k.blockZ, k.staticSharedMemory, k.dynamicSharedMemory, "
           "k.registersPerThread, k.correlationId, k.event FROM CUPTI_ACTIVITY_KIND_KERNEL k WHERE k.run = ? "
           "ORDER BY k.rank, k.start");
    k.bind(1, run);
    while (k.step()) {
      const int rank = k.i32(0);
      const int tid = tracks.at({rank, k.i64(1), k.i64(2)});
      const std::int64_t start = k.i64(3);
      write_slice_head(w, sep, rank, tid, start, k.i64(4));
      const std::string& name = names.quoted(k.i32(5));
      w << ",\"name\":" << name << ",\"cat\":\"kernel\",\"args\":{\"kernel\":" << names.quoted(k.i32(6))
        << ",\"grid\":[" << k.i64(7) << ',' << k.i64(8) << ',' << k.i64(9) << "],\"block\":[" << k.i64(10)
        << ',' << k.i64(11) << ',' << k.i64(12) << "],\"static_shared_bytes\":" << k.i64(13)
        << ",\"dynamic_shared_bytes\":" << k.i64(14) << ",\"registers_per_thread\":" << k.i64(15)
        << ",\"correlation_id\":" << k.i64(16);
      const LaunchingOp* op = find_op(k, 17, ops);
      write_op_args(w, names, op);
      w << "}}";
      if (op) {  // the arrow from the op's slice to its kernel
        const std::int64_t id = next_flow++;
        w << sep() << "{\"ph\":\"s\",\"cat\":\"launch\",\"name\":" << name << ",\"id\":" << id
          << ",\"pid\":" << rank << ",\"tid\":" << op->lane << ",\"ts\":";
        w.micros(op->start_ns);
        w << '}' << sep() << "{\"ph\":\"f\",\"bp\":\"e\",\"cat\":\"launch\",\"name\":" << name
          << ",\"id\":" << id << ",\"pid\":" << rank << ",\"tid\":" << tid << ",\"ts\":";
        w.micros(start);
        w << '}';
      }
    }
  }
  {
    Stmt m(h,
           "SELECT rank, deviceId, streamId, start, end, bytes, copyKind, correlationId, event, 0 FROM "
           "CUPTI_ACTIVITY_KIND_MEMCPY WHERE run = ?1 UNION ALL SELECT rank, deviceId, streamId, start, end, "
           "bytes, 0, correlationId, event, 1 FROM CUPTI_ACTIVITY_KIND_MEMSET WHERE run = ?1");
    m.bind(1, run);
    while (m.step()) {
      const int rank = m.i32(0);
      write_slice_head(w, sep, rank, tracks.at({rank, m.i64(1), m.i64(2)}), m.i64(3), m.i64(4));
      const bool memset = m.i64(9) != 0;
      w << ",\"name\":\"" << (memset ? "Memset" : memcpy_kind_name(m.i64(6))) << "\",\"cat\":\""
        << (memset ? "memset" : "memcpy") << "\",\"args\":{\"bytes\":" << m.i64(5) << ",\"kind\":\""
        << (memset ? "memset" : memcpy_kind_name(m.i64(6))) << "\",\"correlation_id\":" << m.i64(7);
      write_op_args(w, names, find_op(m, 8, ops));
      w << "}}";
    }
  }
  for (const auto& [key, tid] : tracks) {
    const auto& [rank, device, stream] = key;
    const std::string label = "GPU " + std::to_string(device) + " stream " + std::to_string(stream);
    write_metadata(w, sep, "thread_name", rank, &tid, "name", json_quote(label));
    write_metadata(w, sep, "thread_sort_index", rank, &tid, "sort_index", std::to_string(tid));
  }
}

}  // namespace parm::db
