#include "db/gpu_timeline_query.h"

#include "db/sqlite_stmt.h"

namespace parm::db {
namespace {

std::int32_t id_or_none(const Stmt& s, int col) {
  return s.is_null(col) ? -1 : s.i32(col);
}

// Columns 0-5 of every query below: rank, start, end, deviceId, streamId, coalesce(event, -1).
void read_placement(const Stmt& s, GpuTimelineRow& row) {
  row.rank = s.i32(0);
  row.start_ns = s.i64(1);
  row.end_ns = s.i64(2);
  row.device_id = s.i64(3);
  row.stream_id = s.i64(4);
  row.event = s.i64(5);
}

}  // namespace

void for_each_gpu_timeline_row(const Database& db, std::int64_t run,
                               const std::function<void(const GpuTimelineRow&)>& visit) {
  if (!has_gpu_tables(db)) return;
  {
    Stmt s(
        db.handle(),
        "SELECT rank, start, end, deviceId, streamId, coalesce(event, -1), demangledName, shortName, "
        "mangledName, gridX, gridY, gridZ, blockX, blockY, blockZ, staticSharedMemory, dynamicSharedMemory, "
        "registersPerThread FROM CUPTI_ACTIVITY_KIND_KERNEL WHERE run = ?1 ORDER BY rank, start");
    s.bind(1, run);
    GpuTimelineRow row;
    row.kind = GpuTimelineKind::Kernel;
    while (s.step()) {
      read_placement(s, row);
      row.demangled_name = id_or_none(s, 6);
      row.short_name = id_or_none(s, 7);
      row.mangled_name = id_or_none(s, 8);
      for (int i = 0; i < 3; ++i) {
        row.grid[i] = s.i32(9 + i);
        row.block[i] = s.i32(12 + i);
      }
      row.static_shared_bytes = s.i32(15);
      row.dynamic_shared_bytes = s.i32(16);
      row.registers_per_thread = s.i32(17);
      visit(row);
    }
  }
  {
    Stmt s(db.handle(),
           "SELECT rank, start, end, deviceId, streamId, coalesce(event, -1), bytes, copyKind FROM "
           "CUPTI_ACTIVITY_KIND_MEMCPY WHERE run = ?1 ORDER BY rank, start");
    s.bind(1, run);
    GpuTimelineRow row;
    row.kind = GpuTimelineKind::Memcpy;
    while (s.step()) {
      read_placement(s, row);
      row.bytes = s.i64(6);
      row.copy_kind = s.i32(7);
      visit(row);
    }
  }
  {
    Stmt s(db.handle(),
           "SELECT rank, start, end, deviceId, streamId, coalesce(event, -1), bytes, value FROM "
           "CUPTI_ACTIVITY_KIND_MEMSET WHERE run = ?1 ORDER BY rank, start");
    s.bind(1, run);
    GpuTimelineRow row;
    row.kind = GpuTimelineKind::Memset;
    while (s.step()) {
      read_placement(s, row);
      row.bytes = s.i64(6);
      row.value = s.i32(7);
      visit(row);
    }
  }
}

std::vector<GpuCaptureRow> gpu_capture_status(const Database& db, std::int64_t run) {
  std::vector<GpuCaptureRow> out;
  if (!has_gpu_tables(db)) return out;
  Stmt s(db.handle(),
         "SELECT rank, status, dropped_records, overhead_records, overhead_ns, process_id FROM gpu_captures "
         "WHERE run = ?1 ORDER BY rank");
  s.bind(1, run);
  while (s.step()) {
    GpuCaptureRow c;
    c.rank = s.i32(0);
    c.status = s.text(1);
    c.dropped_records = s.i64(2);
    c.overhead_records = s.i64(3);
    c.overhead_ns = s.i64(4);
    c.process_id = s.i64(5);
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace parm::db
