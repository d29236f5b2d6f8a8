// GPU activity read the way a timeline draws it: kernels, copies and memsets of one run streamed from the
// Nsight Systems tables in (rank, start) order with names as StringIds ids, and the per-rank capture status.
// gpu_activity() (db/gpu_activity.h) builds every row with its strings (runtime calls and NVTX too); a
// timeline of a million-event run needs only these columns, visited one row at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "db/database.h"
#include "db/gpu_activity.h"

namespace parm::db {

enum class GpuTimelineKind : std::uint8_t { Kernel, Memcpy, Memset };

struct GpuTimelineRow {
  GpuTimelineKind kind = GpuTimelineKind::Kernel;
  std::int32_t rank = 0;
  std::int64_t start_ns = 0, end_ns = 0;
  std::int64_t device_id = 0, stream_id = 0;
  std::int64_t event = -1;  // events.id of the launching op, -1 when none
  // Kernels: StringIds ids (Database::string), -1 when NULL.
  std::int32_t demangled_name = -1, short_name = -1, mangled_name = -1;
  std::int32_t grid[3] = {0, 0, 0};
  std::int32_t block[3] = {0, 0, 0};
  std::int32_t static_shared_bytes = 0, dynamic_shared_bytes = 0, registers_per_thread = 0;
  std::int64_t bytes = 0;      // copies and memsets
  std::int32_t copy_kind = 0;  // copies: CUpti_ActivityMemcpyKind
  std::int32_t value = 0;      // memsets
};

// Calls `visit` for every kernel of `run`, then every copy, then every memset, each in (rank, start) order.
// Nothing for a project without the GPU tables (older schema, read-only). Throws DbError.
void for_each_gpu_timeline_row(const Database& db, std::int64_t run,
                               const std::function<void(const GpuTimelineRow&)>& visit);

// gpu_captures of `run` by rank (process_name left empty); empty without the GPU tables.
std::vector<GpuCaptureRow> gpu_capture_status(const Database& db, std::int64_t run);

}  // namespace parm::db
