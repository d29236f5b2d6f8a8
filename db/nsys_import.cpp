// Nsight Systems SQLite export -> one run of kind "nsys-import". Each (process, device) pair becomes a rank
// (in (globalPid, deviceId) order), its CUDA streams its lanes (in streamId order), and NVTX ranges go to one
// extra lane per host thread on the first rank of their process. The kernels, copies, memsets, NVTX ranges
// and GPUs are also stored as the run's GPU activity (db/gpu_activity.h), each row pointing at the event it
// became, so a run exported with `--format nsys` and imported again has the same kernels. The source is read
// through its own connection, read-only and immutable, so the user's file is never modified and nothing
// (-wal, -shm) appears beside it.
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <tuple>

#include "db/exporters.h"
#include "db/file_probe.h"
#include "db/gpu_activity.h"
#include "db/sqlite_stmt.h"

namespace parm::db {
namespace {

constexpr int kNvtxPushPopRange = 59;  // ENUM_NSYS_EVENT_TYPE
constexpr int kNvtxStartEndRange = 60;
constexpr std::int64_t kTidMask = 0xFFFFFF;  // globalTid = globalPid | tid (nsys serialization)

struct Source {
  sqlite3* db = nullptr;
  std::string path;
  std::set<std::string> tables;
  ~Source() { sqlite3_close_v2(db); }

  [[noreturn]] void fail(const std::string& what) const { throw DbError(one_line(path + ": " + what)); }
  bool has(const char* table) const { return tables.count(table) != 0; }
  void require(const char* table) const {
    if (!has(table)) fail(std::string("not an Nsight Systems SQLite export (no ") + table + " table)");
  }
  // `column` of `table` where the export has it (coalesced with `fallback`), else `fallback`: the columns
  // beyond the few every export has differ between nsys versions.
  std::string column_or(const char* table, const char* column, const char* fallback) const {
    Stmt c(db, "SELECT 1 FROM pragma_table_info(?) WHERE name = ?");
    const std::string_view qualified(column);  // "k.gridX": the table's alias, then the column
    c.bind(1, std::string_view(table)).bind(2, qualified.substr(qualified.find('.') + 1));
    const bool present = c.step();
    c.reset();
    return present ? std::string("coalesce(") + column + ", " + fallback + ")" : std::string(fallback);
  }
  // Prepares `sql` over `table`; a missing column becomes "FILE: TABLE: no such column: X".
  Stmt query(const char* table, const std::string& sql) const {
    try {
      return Stmt(db, sql);
    } catch (const DbError&) {
      fail(std::string(table) + ": " + sqlite3_errmsg(db));
    }
  }
};

// One imported GPU operation or NVTX range: the event it becomes, and where its GPU row sits.
enum class RawKind { Kernel, Memcpy, Memset, Nvtx };
struct RawEvent {
  std::int64_t start, end;
  std::int64_t device;  // -1: NVTX, placed through its process
  std::int64_t stream_or_tid;
  std::int64_t global_pid;
  std::string name;
  const char* purpose;
  std::int64_t bytes;
  RawKind kind;
  std::size_t row;  // index into the GpuActivityRows vector of `kind`
};

// Opens the export read-only and immutable (no locks, no -wal/-shm created) and lists its tables; refuses
// what is not an export, the project itself and any Parm Studio project, each in one line naming the file.
void open_source(Source& src, const std::string& project_path) {
  const FileProbe probe = probe_file(src.path);
  switch (probe.kind) {
    case FileKind::Missing:
      src.fail("no such file");
    case FileKind::Directory:
      src.fail("is a directory, not an Nsight Systems export");
    case FileKind::NotRegular:
      src.fail("not a regular file (a pipe or a device), not an Nsight Systems export");
    case FileKind::Unreadable:
      src.fail("cannot read the file (" + probe.error + ")");
    case FileKind::Empty:
      src.fail("empty file, not an Nsight Systems export");
    case FileKind::NotSqlite:
      src.fail("not an SQLite database (import-nsys reads `nsys export --type sqlite` files)");
    case FileKind::Sqlite:
      break;
  }
  const std::optional<FileIdentity> project = file_identity(project_path);
  if (project && *project == FileIdentity{probe.device, probe.inode})
    src.fail("is the project file itself (--db " + project_path +
             "): import an Nsight Systems export into it");
  if (sqlite3_open_v2(file_uri(src.path, "mode=ro&immutable=1").c_str(), &src.db,
                      SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, nullptr) != SQLITE_OK)
    src.fail(std::string("cannot open (") + (src.db ? sqlite3_errmsg(src.db) : "out of memory") + ")");
  try {
    Stmt t(src.db, "SELECT name FROM sqlite_master WHERE type = 'table'");
    while (t.step()) src.tables.insert(t.text(0));
  } catch (const DbError&) {
    src.fail(std::string("not a readable SQLite database (") + sqlite3_errmsg(src.db) + ")");
  }
  if (src.has("schema_version") && src.has("runs"))
    src.fail(
        "a Parm Studio project, not an Nsight Systems export (import-nsys reads `nsys export --type "
        "sqlite` files)");
}

}  // namespace

void check_nsys_source(const std::string& nsys_sqlite_path, const std::string& project_path) {
  Source src;
  src.path = nsys_sqlite_path;
  open_source(src, project_path);
  src.require("StringIds");
  src.require("CUPTI_ACTIVITY_KIND_KERNEL");
}

namespace {

// Reads the export's kernels, copies, memsets and NVTX ranges into `raw` (the events to be) and `gpu` (their
// rows for the GPU activity tables), times as the export has them.
void read_activity(const Source& src, std::vector<RawEvent>& raw, GpuActivityRows& gpu) {
  {
    const char* t = "CUPTI_ACTIVITY_KIND_KERNEL";
    const auto opt = [&](const char* column, const char* fallback = "0") {
      return src.column_or(t, column, fallback);
    };
    Stmt k = src.query(
        t, "SELECT k.start, k.end, k.deviceId, k.streamId, k.globalPid, coalesce(s.value, '?'), " +
               opt("contextId") + ", " + opt("correlationId") + ", coalesce(d.value, s.value, '?'), " +
               "coalesce(m.value, ''), " + opt("gridX") + ", " + opt("gridY") + ", " + opt("gridZ") + ", " +
               opt("blockX") + ", " + opt("blockY") + ", " + opt("blockZ") + ", " +
               opt("staticSharedMemory") + ", " + opt("dynamicSharedMemory") + ", " +
               opt("registersPerThread") + ", " + opt("launchType") + ", " + opt("localMemoryTotal") + ", " +
               opt("gridId") +
               " FROM CUPTI_ACTIVITY_KIND_KERNEL AS k LEFT JOIN StringIds AS s ON s.id = k.shortName "
               "LEFT JOIN StringIds AS d ON d.id = " +
               opt("k.demangledName", "NULL") +
               " LEFT JOIN StringIds AS m ON m.id = " + opt("k.mangledName", "NULL"));
    while (k.step()) {
      raw.push_back({k.i64(0), k.i64(1), k.i64(2), k.i64(3), k.i64(4), k.text(5), "kernel", 0,
                     RawKind::Kernel, gpu.kernels.size()});
      GpuKernelRow r;
      r.device_id = k.i64(2);
      r.stream_id = k.i64(3);
      r.global_pid = k.i64(4);
      r.short_name = k.text(5);
      r.context_id = k.i64(6);
      r.correlation_id = k.i64(7);
      r.demangled_name = k.text(8);
      r.mangled_name = k.text(9);
      r.grid_x = k.i32(10);
      r.grid_y = k.i32(11);
      r.grid_z = k.i32(12);
      r.block_x = k.i32(13);
      r.block_y = k.i32(14);
      r.block_z = k.i32(15);
      r.static_shared_bytes = k.i32(16);
      r.dynamic_shared_bytes = k.i32(17);
      r.registers_per_thread = k.i32(18);
      r.launch_type = k.i32(19);
      r.local_memory_total = k.i64(20);
      r.grid_id = k.i64(21);
      gpu.kernels.push_back(std::move(r));
    }
  }
  if (src.has("CUPTI_ACTIVITY_KIND_MEMCPY")) {
    const char* t = "CUPTI_ACTIVITY_KIND_MEMCPY";
    const auto opt = [&](const char* column, const char* fallback = "0") {
      return src.column_or(t, column, fallback);
    };
    Stmt m = src.query(t, "SELECT start, end, deviceId, streamId, globalPid, copyKind, bytes, " +
                              opt("contextId") + ", " + opt("correlationId") + ", " + opt("srcKind") + ", " +
                              opt("dstKind") + ", " + opt("srcDeviceId", "-1") + ", " +
                              opt("dstDeviceId", "-1") + " FROM CUPTI_ACTIVITY_KIND_MEMCPY");
    while (m.step()) {
      raw.push_back({m.i64(0), m.i64(1), m.i64(2), m.i64(3), m.i64(4), memcpy_kind_name(m.i64(5)), "memcpy",
                     m.i64(6), RawKind::Memcpy, gpu.memcpys.size()});
      GpuMemcpyRow r;
      r.device_id = m.i64(2);
      r.stream_id = m.i64(3);
      r.global_pid = m.i64(4);
      r.copy_kind = m.i32(5);
      r.bytes = m.i64(6);
      r.context_id = m.i64(7);
      r.correlation_id = m.i64(8);
      r.src_kind = m.i32(9);
      r.dst_kind = m.i32(10);
      r.src_device_id = m.i32(11);
      r.dst_device_id = m.i32(12);
      gpu.memcpys.push_back(r);
    }
  }
  if (src.has("CUPTI_ACTIVITY_KIND_MEMSET")) {
    const char* t = "CUPTI_ACTIVITY_KIND_MEMSET";
    const auto opt = [&](const char* column, const char* fallback = "0") {
      return src.column_or(t, column, fallback);
    };
    Stmt m = src.query(t, "SELECT start, end, deviceId, streamId, " + opt("globalPid") + ", bytes, " +
                              opt("value") + ", " + opt("memKind") + ", " + opt("contextId") + ", " +
                              opt("correlationId") + " FROM CUPTI_ACTIVITY_KIND_MEMSET");
    while (m.step()) {
      raw.push_back({m.i64(0), m.i64(1), m.i64(2), m.i64(3), m.i64(4), "Memset", "memset", m.i64(5),
                     RawKind::Memset, gpu.memsets.size()});
      GpuMemsetRow r;
      r.device_id = m.i64(2);
      r.stream_id = m.i64(3);
      r.global_pid = m.i64(4);
      r.bytes = m.i64(5);
      r.value = m.i32(6);
      r.memory_kind = m.i32(7);
      r.context_id = m.i64(8);
      r.correlation_id = m.i64(9);
      gpu.memsets.push_back(r);
    }
  }
  if (src.has("NVTX_EVENTS")) {
    const char* t = "NVTX_EVENTS";
    const auto opt = [&](const char* column, const char* fallback = "0") {
      return src.column_or(t, column, fallback);
    };
    Stmt n =
        src.query(t, "SELECT e.start, e.end, e.globalTid, coalesce(e.text, s.value, '(unnamed range)'), " +
                         opt("e.category") + ", " + opt("e.domainId") + ", " + opt("e.uint64Value") +
                         " FROM NVTX_EVENTS AS e LEFT JOIN StringIds AS s ON s.id = e.textId WHERE "
                         "e.eventType IN (" +
                         std::to_string(kNvtxPushPopRange) + ", " + std::to_string(kNvtxStartEndRange) +
                         ") AND e.end IS NOT NULL AND e.end >= e.start");
    while (n.step()) {
      const std::int64_t tid = n.i64(2);
      raw.push_back({n.i64(0), n.i64(1), -1, tid, tid & ~kTidMask, n.text(3), "nvtx", 0, RawKind::Nvtx,
                     gpu.nvtx.size()});
      NvtxRow r;
      r.global_tid = tid;
      r.text = n.text(3);
      r.category = n.i32(4);
      r.domain_id = n.i64(5);
      r.payload = static_cast<std::uint64_t>(n.i64(6));
      gpu.nvtx.push_back(r);
    }
  }
}

// TARGET_INFO_GPU rows by device id (rank 0; placed per rank later).
std::map<std::int64_t, GpuDeviceRow> read_devices(const Source& src) {
  std::map<std::int64_t, GpuDeviceRow> out;
  if (!src.has("TARGET_INFO_GPU")) return out;
  const char* t = "TARGET_INFO_GPU";
  const auto opt = [&](const char* column, const char* fallback = "0") {
    return src.column_or(t, column, fallback);
  };
  Stmt g = src.query(t, "SELECT id, coalesce(name, ''), " + opt("busLocation", "''") + ", " +
                            opt("uuid", "''") + ", " + opt("chipName", "''") + ", " + opt("totalMemory") +
                            ", " + opt("memoryBandwidth") + ", " + opt("l2CacheSize") + ", " +
                            opt("clockRate") + ", " + opt("smCount") + ", " + opt("computeMajor") + ", " +
                            opt("computeMinor") + " FROM TARGET_INFO_GPU");
  while (g.step())
    out[g.i64(0)] = {0,        g.i64(0), g.text(1), g.text(2), g.text(3), g.text(4), g.i64(5),
                     g.i64(6), g.i64(7), g.i64(8),  g.i32(9),  g.i32(10), g.i32(11)};
  return out;
}

// PROCESSES names by globalPid.
std::map<std::int64_t, std::string> read_process_names(const Source& src) {
  std::map<std::int64_t, std::string> out;
  if (!src.has("PROCESSES")) return out;
  Stmt p = src.query("PROCESSES", "SELECT globalPid, coalesce(name, '') FROM PROCESSES");
  while (p.step()) out.emplace(p.i64(0), p.text(1));
  return out;
}

}  // namespace

std::int64_t import_nsys(Database& db, const std::string& nsys_sqlite_path) {
  Source src;
  src.path = nsys_sqlite_path;
  open_source(src, db.path());
  src.require("StringIds");
  src.require("CUPTI_ACTIVITY_KIND_KERNEL");

  std::vector<RawEvent> raw;
  GpuActivityRows gpu;
  read_activity(src, raw, gpu);
  const std::map<std::int64_t, GpuDeviceRow> devices = read_devices(src);
  const std::map<std::int64_t, std::string> process_names = read_process_names(src);

  // Ranks = (process, device) pairs: several ranks on one GPU (cuda+mpi) stay several ranks, one process
  // driving several GPUs gives one rank per GPU. Lanes = streams per rank, then NVTX threads.
  using RankKey = std::pair<std::int64_t, std::int64_t>;  // (globalPid, deviceId)
  std::map<RankKey, int> rank_of;
  std::map<std::int64_t, int> first_rank_of_pid;
  std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, int> lane_of;  // (pid, device, stream)
  std::map<int, int> lanes_per_rank;
  for (const RawEvent& e : raw)
    if (e.device >= 0) {
      rank_of.emplace(RankKey{e.global_pid, e.device}, 0);
      lane_of.emplace(std::tuple{e.global_pid, e.device, e.stream_or_tid}, 0);
    }
  if (rank_of.empty()) rank_of.emplace(RankKey{0, 0}, 0);  // NVTX only: one host "rank"
  int next_rank = 0;
  for (auto& [key, rank] : rank_of) {
    rank = next_rank++;
    first_rank_of_pid.emplace(key.first, rank);
  }

  std::vector<LaneName> lane_names;
  for (auto& [key, lane] : lane_of) {
    const int rank = rank_of.at({std::get<0>(key), std::get<1>(key)});
    lane = lanes_per_rank[rank]++;
    lane_names.push_back({rank, lane, "stream " + std::to_string(std::get<2>(key))});
  }
  std::map<std::int64_t, std::pair<int, int>> nvtx_lane;  // globalTid -> (rank, lane)
  for (const RawEvent& e : raw)
    if (e.device < 0 && !nvtx_lane.count(e.stream_or_tid)) {
      const auto found = first_rank_of_pid.find(e.global_pid);
      const int rank = found != first_rank_of_pid.end() ? found->second : 0;
      const int lane = lanes_per_rank[rank]++;
      nvtx_lane[e.stream_or_tid] = {rank, lane};
      lane_names.push_back({rank, lane, "NVTX thread " + std::to_string(e.stream_or_tid & kTidMask)});
    }

  std::int64_t origin = 0;
  if (!raw.empty())
    origin =
        std::min_element(raw.begin(), raw.end(), [](auto& a, auto& b) { return a.start < b.start; })->start;

  RunInfo info;
  info.name = std::filesystem::path(nsys_sqlite_path).stem().string();
  info.kind = "nsys-import";
  info.backend = "cuda";
  info.ranks = static_cast<int>(rank_of.size());
  info.origin_ns = origin;
  const std::string host = std::filesystem::path(nsys_sqlite_path).filename().string();
  std::vector<RankInfo> ranks;
  for (const auto& [key, rank] : rank_of) {
    const auto [pid, device] = key;
    const auto gpu_row = devices.find(device);
    RankInfo info_of_rank;
    info_of_rank.rank = rank;
    info_of_rank.host = host;
    info_of_rank.device = gpu_row != devices.end() && !gpu_row->second.name.empty()
                              ? gpu_row->second.name
                              : "GPU " + std::to_string(device);
    info_of_rank.device_ordinal = static_cast<int>(device);  // nsys deviceId is the CUDA ordinal
    if (gpu_row != devices.end()) info_of_rank.device_memory_bytes = gpu_row->second.total_memory;
    ranks.push_back(std::move(info_of_rank));
    if (gpu_row != devices.end()) {
      gpu.devices.push_back(gpu_row->second);
      gpu.devices.back().rank = rank;
    }
    const auto name = process_names.find(pid);
    gpu.captures.push_back(
        {rank, "", 0, 0, 0, (pid >> 24) & kTidMask, name != process_names.end() ? name->second : ""});
  }

  // Times are stored relative to the first event; a span beyond 2^63 ns is no capture (and would overflow:
  // found by fuzzing). Checked before anything is written to the project.
  for (const RawEvent& e : raw) {
    std::int64_t relative = 0;
    if (__builtin_sub_overflow(e.start, origin, &relative) ||
        __builtin_sub_overflow(e.end, origin, &relative))
      src.fail(std::string(e.purpose) + " times out of range (start " + std::to_string(e.start) + ", end " +
               std::to_string(e.end) + ")");
  }

  const std::int32_t schedule = db.intern("nsys");
  const std::int32_t no_group = db.intern("-");
  std::vector<EventRow> rows;
  rows.reserve(raw.size());
  for (const RawEvent& e : raw) {
    EventRow r;
    if (e.device >= 0) {
      r.rank = rank_of.at({e.global_pid, e.device});
      r.lane = lane_of.at({e.global_pid, e.device, e.stream_or_tid});
    } else {
      std::tie(r.rank, r.lane) = nvtx_lane.at(e.stream_or_tid);
    }
    r.schedule = schedule;
    r.op = db.intern(e.name);
    r.group = no_group;
    r.purpose = db.intern(e.purpose);
    r.bytes = e.bytes;
    r.start_ns = e.start - origin;
    r.end_ns = e.end - origin;
    rows.push_back(r);
  }

  const std::int64_t run = db.begin_run(info);
  db.add_ranks(run, ranks);
  db.add_lane_names(run, lane_names);
  const std::int64_t first_event = db.add_events(run, rows);
  // Each GPU row points at the event it became, on the same rank and times.
  for (std::size_t i = 0; i < raw.size(); ++i) {
    const RawEvent& e = raw[i];
    const auto place = [&](auto& row) {
      row.rank = rows[i].rank;
      row.start_ns = rows[i].start_ns;
      row.end_ns = rows[i].end_ns;
      row.event = first_event + static_cast<std::int64_t>(i);
    };
    switch (e.kind) {
      case RawKind::Kernel:
        place(gpu.kernels[e.row]);
        break;
      case RawKind::Memcpy:
        place(gpu.memcpys[e.row]);
        break;
      case RawKind::Memset:
        place(gpu.memsets[e.row]);
        break;
      case RawKind::Nvtx:
        place(gpu.nvtx[e.row]);
        break;
    }
  }
  add_gpu_activity(db, run, gpu);
  db.finish_run(run);
  return run;
}

}  // namespace parm::db
