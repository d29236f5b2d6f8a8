// GPU activity of a run in Nsight Systems' tables (CUPTI_ACTIVITY_KIND_KERNEL / _MEMCPY / _MEMSET / _RUNTIME,
// NVTX_EVENTS, TARGET_INFO_GPU, PROCESSES, StringIds) with three columns of ours appended to each: run, rank
// and event (the id of the op's row in `events` that launched it, NULL when none), so nsys users' scripts
// read the rows by name and a join gives each kernel its schedule, op, chunk and iteration (view
// `kernel_ops`). Per-rank capture status (dropped records, "CUPTI unavailable: ...") is our table
// gpu_captures. Times are int64 ns aligned to rank 0's clock and relative to runs.origin_ns, as events are.
// Names are plain strings here; the writer interns them into StringIds.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"

namespace parm::db {

struct GpuKernelRow {
  int rank = 0;
  std::int64_t start_ns = 0, end_ns = 0;
  std::int64_t device_id = 0, context_id = 0, stream_id = 0, correlation_id = 0;
  std::int64_t global_pid = 0;        // nsys: pid << 24
  std::optional<std::int64_t> event;  // events.id of the launching op
  std::string demangled_name, short_name, mangled_name;
  std::int32_t grid_x = 0, grid_y = 0, grid_z = 0, block_x = 0, block_y = 0, block_z = 0;
  std::int32_t static_shared_bytes = 0, dynamic_shared_bytes = 0, registers_per_thread = 0;
  std::int32_t launch_type = 0;
  std::int64_t local_memory_total = 0, grid_id = 0;
};

struct GpuMemcpyRow {
  int rank = 0;
  std::int64_t start_ns = 0, end_ns = 0;
  std::int64_t device_id = 0, context_id = 0, stream_id = 0, correlation_id = 0;
  std::int64_t global_pid = 0;
  std::optional<std::int64_t> event;
  std::int64_t bytes = 0;
  std::int32_t copy_kind = 0, src_kind = 0, dst_kind = 0;
  std::int32_t src_device_id = -1, dst_device_id = -1;
};

struct GpuMemsetRow {
  int rank = 0;
  std::int64_t start_ns = 0, end_ns = 0;
  std::int64_t device_id = 0, context_id = 0, stream_id = 0, correlation_id = 0;
  std::int64_t global_pid = 0;
  std::optional<std::int64_t> event;
  std::int64_t bytes = 0;
  std::int32_t value = 0, memory_kind = 0;
};

struct GpuRuntimeRow {
  int rank = 0;
  std::int64_t start_ns = 0, end_ns = 0;
  std::int64_t global_tid = 0;  // nsys: (pid << 24) | tid
  std::int64_t correlation_id = 0;
  std::string name;  // nameId in nsys
  std::int32_t return_value = 0;
  std::int32_t event_class = 0;  // nsys eventClass (1 = CUDA runtime)
};

// NVTX_EVENTS row of a push/pop range (eventType 59) in domain `domain` (our "Parm").
struct NvtxRow {
  int rank = 0;
  std::int64_t start_ns = 0, end_ns = 0;
  std::int64_t global_tid = 0;
  std::string text;  // stored as textId
  std::int32_t category = 0;
  std::int64_t domain_id = 0;
  std::uint64_t payload = 0;  // uint64Value: the iteration
  std::optional<std::int64_t> event;
};

// TARGET_INFO_GPU row; `id` is the CUDA ordinal (nsys deviceId).
struct GpuDeviceRow {
  int rank = 0;
  std::int64_t id = 0;
  std::string name, bus_location, uuid, chip_name;
  std::int64_t total_memory = 0, memory_bandwidth = 0, l2_cache_size = 0, clock_rate = 0;
  std::int32_t sm_count = 0, compute_major = 0, compute_minor = 0;
};

// One rank's capture: whether CUPTI ran and what it lost.
struct GpuCaptureRow {
  int rank = 0;
  std::string status;  // "" captured; else "CUPTI unavailable: <reason>"
  std::int64_t dropped_records = 0;
  std::int64_t overhead_records = 0;
  std::int64_t overhead_ns = 0;  // CUPTI's own time during the capture
  std::int64_t process_id = 0;
  std::string process_name;  // PROCESSES.name: "parm worker (rank N)"
};

struct GpuActivityRows {
  std::vector<GpuCaptureRow> captures;
  std::vector<GpuDeviceRow> devices;
  std::vector<GpuKernelRow> kernels;
  std::vector<GpuMemcpyRow> memcpys;
  std::vector<GpuMemsetRow> memsets;
  std::vector<GpuRuntimeRow> runtime;
  std::vector<NvtxRow> nvtx;
};

// Whether the project has the GPU activity tables (schema version 3; an older read-only file has not).
bool has_gpu_tables(const Database& db);

// Writes every row of `rows` for `run` in one transaction (prepared statements; strings through
// Database::intern). NVTX ranges are stored as nsys does: eventType 59, with one domain-create row (eventType
// 75, text "Parm") and one row per category name (eventType 33) per rank and domain before them. The run's
// TARGET_INFO_SESSION_START_TIME row (from runs.started_at) is written once. Throws DbError naming the file.
void add_gpu_activity(Database& db, std::int64_t run, const GpuActivityRows& rows);

// Everything stored for `run`, each kind ordered by (rank, start_ns); captures and devices by rank. A project
// of an older schema without these tables reads as empty.
GpuActivityRows gpu_activity(const Database& db, std::int64_t run);

}  // namespace parm::db
