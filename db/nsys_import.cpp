// Nsight Systems SQLite export -> one run of kind "nsys-import". Devices become ranks (in deviceId order),
// each device's CUDA streams become its lanes (in streamId order), and NVTX ranges go to one extra lane per
// host thread on the rank of the device their process used. The source is read through its own connection,
// read-only and immutable, so the user's file is never modified and nothing (-wal, -shm) appears beside it.
#include <sqlite3.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "db/exporters.h"
#include "db/file_probe.h"
#include "db/sqlite_stmt.h"

namespace parm::db {
namespace {

constexpr int kNvtxPushPopRange = 59;  // ENUM_NSYS_EVENT_TYPE
constexpr int kNvtxStartEndRange = 60;
constexpr std::int64_t kTidMask = 0xFFFFFF;  // globalTid = globalPid | tid (nsys serialization)

const char* copy_kind_name(std::int64_t kind) {  // ENUM_CUDA_MEMCPY_OPER
  switch (kind) {
    case 1:
      return "Memcpy HtoD";
    case 2:
      return "Memcpy DtoH";
    case 3:
      return "Memcpy HtoA";
    case 4:
      return "Memcpy AtoH";
    case 5:
      return "Memcpy AtoA";
    case 6:
      return "Memcpy AtoD";
    case 7:
      return "Memcpy DtoA";
    case 8:
      return "Memcpy DtoD";
    case 9:
      return "Memcpy HtoH";
    case 10:
      return "Memcpy PtoP";
    default:
      return "Memcpy";
  }
}

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
  // Prepares `sql` over `table`; a missing column becomes "FILE: TABLE: no such column: X".
  Stmt query(const char* table, const std::string& sql) const {
    try {
      return Stmt(db, sql);
    } catch (const DbError&) {
      fail(std::string(table) + ": " + sqlite3_errmsg(db));
    }
  }
};

struct RawEvent {
  std::int64_t start, end;
  std::int64_t device;  // -1: NVTX, placed through its process
  std::int64_t stream_or_tid;
  std::int64_t global_pid;
  std::string name;
  const char* purpose;
  std::int64_t bytes;
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

std::int64_t import_nsys(Database& db, const std::string& nsys_sqlite_path) {
  Source src;
  src.path = nsys_sqlite_path;
  open_source(src, db.path());
  src.require("StringIds");
  src.require("CUPTI_ACTIVITY_KIND_KERNEL");

  std::vector<RawEvent> raw;
  {
    Stmt k =
        src.query("CUPTI_ACTIVITY_KIND_KERNEL",
                  "SELECT k.start, k.end, k.deviceId, k.streamId, k.globalPid, coalesce(s.value, '?') FROM "
                  "CUPTI_ACTIVITY_KIND_KERNEL AS k LEFT JOIN StringIds AS s ON s.id = k.shortName");
    while (k.step())
      raw.push_back({k.i64(0), k.i64(1), k.i64(2), k.i64(3), k.i64(4), k.text(5), "kernel", 0});
  }
  if (src.has("CUPTI_ACTIVITY_KIND_MEMCPY")) {
    Stmt m = src.query("CUPTI_ACTIVITY_KIND_MEMCPY",
                       "SELECT start, end, deviceId, streamId, globalPid, copyKind, bytes FROM "
                       "CUPTI_ACTIVITY_KIND_MEMCPY");
    while (m.step())
      raw.push_back(
          {m.i64(0), m.i64(1), m.i64(2), m.i64(3), m.i64(4), copy_kind_name(m.i64(5)), "memcpy", m.i64(6)});
  }
  if (src.has("NVTX_EVENTS")) {
    Stmt n =
        src.query("NVTX_EVENTS",
                  "SELECT e.start, e.end, e.globalTid, coalesce(e.text, s.value, '(unnamed range)') FROM "
                  "NVTX_EVENTS AS e LEFT JOIN StringIds AS s ON s.id = e.textId WHERE e.eventType IN (" +
                      std::to_string(kNvtxPushPopRange) + ", " + std::to_string(kNvtxStartEndRange) +
                      ") AND e.end IS NOT NULL AND e.end >= e.start");
    while (n.step()) {
      const std::int64_t tid = n.i64(2);
      raw.push_back({n.i64(0), n.i64(1), -1, tid, tid & ~kTidMask, n.text(3), "nvtx", 0});
    }
  }

  std::map<std::int64_t, std::string> gpu_names;
  if (src.has("TARGET_INFO_GPU")) {
    Stmt g = src.query("TARGET_INFO_GPU", "SELECT id, coalesce(name, '') FROM TARGET_INFO_GPU");
    while (g.step()) gpu_names[g.i64(0)] = g.text(1);
  }

  // Ranks = devices; lanes = streams per device, then NVTX threads.
  std::map<std::int64_t, int> rank_of_device;
  std::map<std::int64_t, std::int64_t> device_of_pid;
  std::map<std::pair<std::int64_t, std::int64_t>, int> lane_of;  // (device, stream) -> lane
  std::map<int, int> lanes_per_rank;
  for (const RawEvent& e : raw)
    if (e.device >= 0) {
      rank_of_device.emplace(e.device, 0);
      device_of_pid.emplace(e.global_pid, e.device);
      lane_of.emplace(std::pair{e.device, e.stream_or_tid}, 0);
    }
  if (rank_of_device.empty()) rank_of_device.emplace(0, 0);  // NVTX only: one host "rank"
  int next_rank = 0;
  for (auto& [device, rank] : rank_of_device) rank = next_rank++;

  std::vector<LaneName> lane_names;
  for (auto& [key, lane] : lane_of) {
    const int rank = rank_of_device.at(key.first);
    lane = lanes_per_rank[rank]++;
    lane_names.push_back({rank, lane, "stream " + std::to_string(key.second)});
  }
  std::map<std::int64_t, std::pair<int, int>> nvtx_lane;  // globalTid -> (rank, lane)
  for (const RawEvent& e : raw)
    if (e.device < 0 && !nvtx_lane.count(e.stream_or_tid)) {
      const auto dev = device_of_pid.find(e.global_pid);
      const int rank = dev != device_of_pid.end() ? rank_of_device.at(dev->second) : 0;
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
  info.ranks = static_cast<int>(rank_of_device.size());
  info.origin_ns = origin;
  const std::string host = std::filesystem::path(nsys_sqlite_path).filename().string();
  std::vector<RankInfo> ranks;
  for (const auto& [device, rank] : rank_of_device) {
    const auto name = gpu_names.find(device);
    RankInfo info_of_rank;
    info_of_rank.rank = rank;
    info_of_rank.host = host;
    info_of_rank.device =
        name != gpu_names.end() && !name->second.empty() ? name->second : "GPU " + std::to_string(device);
    info_of_rank.device_ordinal = static_cast<int>(device);  // nsys deviceId is the CUDA ordinal
    ranks.push_back(std::move(info_of_rank));
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
      r.rank = rank_of_device.at(e.device);
      r.lane = lane_of.at({e.device, e.stream_or_tid});
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
  db.add_events(run, rows);
  db.finish_run(run);
  return run;
}

}  // namespace parm::db
