// Writing and reading GPU activity rows (db/gpu_activity.h) in the Nsight Systems tables of schema version 3.
#include "db/gpu_activity.h"

#include <ctime>
#include <map>
#include <set>
#include <tuple>

#include "db/sqlite_stmt.h"

namespace parm::db {
namespace {

constexpr int kNvtxCategory = 33;  // nsys ENUM_NSYS_EVENT_TYPE
constexpr int kNvtxPushPopRange = 59;
constexpr int kNvtxDomainCreate = 75;
constexpr char kParmDomain[] = "Parm";

void bind_optional(Stmt& s, int i, const std::optional<std::int64_t>& v) {
  if (v)
    s.bind(i, *v);
  else
    sqlite3_bind_null(s.get(), i);
}

std::optional<std::int64_t> optional_at(const Stmt& s, int col) {
  if (s.is_null(col)) return std::nullopt;
  return s.i64(col);
}

// NVTX category of a lane (lane + 1, 0 is NVTX's "none"): the names the Perfetto export and GUI give lanes.
std::string category_name(std::int32_t category) {
  switch (category) {
    case 1:
      return "compute";
    case 2:
      return "intra-node";
    case 3:
      return "inter-node";
    default:
      return "lane " + std::to_string(category - 1);
  }
}

// runs.started_at ("2025-01-02T03:04:05Z") as UTC epoch ns; 0 when it does not parse.
std::int64_t utc_epoch_ns(const std::string& iso) {
  std::tm tm{};
  if (!strptime(iso.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return 0;
  return static_cast<std::int64_t>(timegm(&tm)) * 1'000'000'000;
}

void write_session_start(sqlite3* h, std::int64_t run, const std::string& started_at) {
  Stmt exists(h, "SELECT 1 FROM TARGET_INFO_SESSION_START_TIME WHERE run = ?");
  exists.bind(1, run);
  if (exists.step()) {
    exists.reset();
    return;
  }
  Stmt s(h,
         "INSERT INTO TARGET_INFO_SESSION_START_TIME (utcEpochNs, utcTime, localTime, run) VALUES (?, ?, ?, "
         "?)");
  s.bind(1, utc_epoch_ns(started_at)).bind(2, started_at).bind(3, started_at).bind(4, run).run();
}

void write_kernels(Database& db, std::int64_t run, const std::vector<GpuKernelRow>& kernels) {
  Stmt s(db.handle(),
         "INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL (start, end, deviceId, contextId, streamId, correlationId, "
         "globalPid, demangledName, shortName, mangledName, launchType, registersPerThread, gridX, gridY, "
         "gridZ, blockX, blockY, blockZ, staticSharedMemory, dynamicSharedMemory, localMemoryTotal, gridId, "
         "run, rank, event) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  for (const GpuKernelRow& k : kernels) {
    s.bind(1, k.start_ns).bind(2, k.end_ns).bind(3, k.device_id).bind(4, k.context_id).bind(5, k.stream_id);
    s.bind(6, k.correlation_id).bind(7, k.global_pid);
    s.bind(8, std::int64_t{db.intern(k.demangled_name)}).bind(9, std::int64_t{db.intern(k.short_name)});
    if (k.mangled_name.empty())
      sqlite3_bind_null(s.get(), 10);
    else
      s.bind(10, std::int64_t{db.intern(k.mangled_name)});
    s.bind(11, std::int64_t{k.launch_type}).bind(12, std::int64_t{k.registers_per_thread});
    s.bind(13, std::int64_t{k.grid_x}).bind(14, std::int64_t{k.grid_y}).bind(15, std::int64_t{k.grid_z});
    s.bind(16, std::int64_t{k.block_x}).bind(17, std::int64_t{k.block_y}).bind(18, std::int64_t{k.block_z});
    s.bind(19, std::int64_t{k.static_shared_bytes}).bind(20, std::int64_t{k.dynamic_shared_bytes});
    s.bind(21, k.local_memory_total).bind(22, k.grid_id).bind(23, run).bind(24, std::int64_t{k.rank});
    bind_optional(s, 25, k.event);
    s.run();
  }
}

void write_memcpys(sqlite3* h, std::int64_t run, const std::vector<GpuMemcpyRow>& memcpys) {
  Stmt s(h,
         "INSERT INTO CUPTI_ACTIVITY_KIND_MEMCPY (start, end, deviceId, contextId, streamId, correlationId, "
         "globalPid, bytes, copyKind, srcKind, dstKind, srcDeviceId, dstDeviceId, run, rank, event) VALUES "
         "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  for (const GpuMemcpyRow& m : memcpys) {
    s.bind(1, m.start_ns).bind(2, m.end_ns).bind(3, m.device_id).bind(4, m.context_id).bind(5, m.stream_id);
    s.bind(6, m.correlation_id).bind(7, m.global_pid).bind(8, m.bytes).bind(9, std::int64_t{m.copy_kind});
    s.bind(10, std::int64_t{m.src_kind}).bind(11, std::int64_t{m.dst_kind});
    s.bind(12, std::int64_t{m.src_device_id}).bind(13, std::int64_t{m.dst_device_id});
    s.bind(14, run).bind(15, std::int64_t{m.rank});
    bind_optional(s, 16, m.event);
    s.run();
  }
}

void write_memsets(sqlite3* h, std::int64_t run, const std::vector<GpuMemsetRow>& memsets) {
  Stmt s(h,
         "INSERT INTO CUPTI_ACTIVITY_KIND_MEMSET (start, end, deviceId, contextId, streamId, correlationId, "
         "globalPid, value, bytes, memKind, run, rank, event) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");
  for (const GpuMemsetRow& m : memsets) {
    s.bind(1, m.start_ns).bind(2, m.end_ns).bind(3, m.device_id).bind(4, m.context_id).bind(5, m.stream_id);
    s.bind(6, m.correlation_id).bind(7, m.global_pid).bind(8, std::int64_t{m.value}).bind(9, m.bytes);
    s.bind(10, std::int64_t{m.memory_kind}).bind(11, run).bind(12, std::int64_t{m.rank});
    bind_optional(s, 13, m.event);
    s.run();
  }
}

void write_runtime(Database& db, std::int64_t run, const std::vector<GpuRuntimeRow>& calls) {
  Stmt s(db.handle(),
         "INSERT INTO CUPTI_ACTIVITY_KIND_RUNTIME (start, end, eventClass, globalTid, correlationId, nameId, "
         "returnValue, run, rank) VALUES (?,?,?,?,?,?,?,?,?)");
  for (const GpuRuntimeRow& r : calls) {
    s.bind(1, r.start_ns).bind(2, r.end_ns).bind(3, std::int64_t{r.event_class}).bind(4, r.global_tid);
    s.bind(5, r.correlation_id).bind(6, std::int64_t{db.intern(r.name)});
    s.bind(7, std::int64_t{r.return_value}).bind(8, run).bind(9, std::int64_t{r.rank});
    s.run();
  }
}

// The ranges (eventType 59), and before them what nsys writes about their domain: one domain-create row
// (eventType 75, text = the domain name) and one row per named category (eventType 33) per rank and domain.
void write_nvtx(Database& db, std::int64_t run, const std::vector<NvtxRow>& ranges) {
  Stmt s(db.handle(),
         "INSERT INTO NVTX_EVENTS (start, end, eventType, category, text, globalTid, endGlobalTid, textId, "
         "domainId, uint64Value, run, rank, event) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)");
  std::map<std::pair<int, std::int64_t>, const NvtxRow*> first_of_domain;  // (rank, domain) -> earliest range
  std::set<std::tuple<int, std::int64_t, std::int32_t>> categories;
  for (const NvtxRow& r : ranges) {
    auto [it, added] = first_of_domain.emplace(std::pair{r.rank, r.domain_id}, &r);
    if (!added && r.start_ns < it->second->start_ns) it->second = &r;
    if (r.category > 0) categories.insert({r.rank, r.domain_id, r.category});
  }
  const auto insert_named = [&](const NvtxRow& at, int event_type, std::int32_t category,
                                const std::string& text) {
    s.bind(1, at.start_ns);
    sqlite3_bind_null(s.get(), 2);
    s.bind(3, std::int64_t{event_type}).bind(4, std::int64_t{category}).bind(5, text).bind(6, at.global_tid);
    for (int i : {7, 8, 10, 13}) sqlite3_bind_null(s.get(), i);
    s.bind(9, at.domain_id).bind(11, run).bind(12, std::int64_t{at.rank});
    s.run();
  };
  for (const auto& [key, first] : first_of_domain) {
    insert_named(*first, kNvtxDomainCreate, 0, kParmDomain);
    for (const auto& [rank, domain, category] : categories)
      if (rank == key.first && domain == key.second)
        insert_named(*first, kNvtxCategory, category, category_name(category));
  }
  for (const NvtxRow& r : ranges) {
    s.bind(1, r.start_ns).bind(2, r.end_ns).bind(3, std::int64_t{kNvtxPushPopRange});
    s.bind(4, std::int64_t{r.category});
    sqlite3_bind_null(s.get(), 5);
    s.bind(6, r.global_tid).bind(7, r.global_tid).bind(8, std::int64_t{db.intern(r.text)});
    s.bind(9, r.domain_id).bind(10, static_cast<std::int64_t>(r.payload));
    s.bind(11, run).bind(12, std::int64_t{r.rank});
    bind_optional(s, 13, r.event);
    s.run();
  }
}

void write_devices(sqlite3* h, std::int64_t run, const std::vector<GpuDeviceRow>& devices) {
  Stmt s(h,
         "INSERT INTO TARGET_INFO_GPU (id, name, busLocation, uuid, chipName, totalMemory, memoryBandwidth, "
         "l2CacheSize, clockRate, smCount, computeMajor, computeMinor, run, rank) VALUES "
         "(?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
  for (const GpuDeviceRow& d : devices) {
    s.bind(1, d.id).bind(2, d.name).bind(3, d.bus_location).bind(4, d.uuid).bind(5, d.chip_name);
    s.bind(6, d.total_memory).bind(7, d.memory_bandwidth).bind(8, d.l2_cache_size).bind(9, d.clock_rate);
    s.bind(10, std::int64_t{d.sm_count}).bind(11, std::int64_t{d.compute_major});
    s.bind(12, std::int64_t{d.compute_minor}).bind(13, run).bind(14, std::int64_t{d.rank});
    s.run();
  }
}

// gpu_captures, and the rank's process in PROCESSES (globalPid = pid << 24, as nsys numbers processes).
void write_captures(sqlite3* h, std::int64_t run, const std::vector<GpuCaptureRow>& captures) {
  Stmt c(h,
         "INSERT OR REPLACE INTO gpu_captures (run, rank, status, dropped_records, overhead_records, "
         "overhead_ns, process_id) VALUES (?,?,?,?,?,?,?)");
  Stmt p(h, "INSERT INTO PROCESSES (globalPid, pid, name, run, rank) VALUES (?,?,?,?,?)");
  for (const GpuCaptureRow& r : captures) {
    c.bind(1, run).bind(2, std::int64_t{r.rank}).bind(3, r.status).bind(4, r.dropped_records);
    c.bind(5, r.overhead_records).bind(6, r.overhead_ns).bind(7, r.process_id).run();
    p.bind(1, r.process_id << 24).bind(2, r.process_id).bind(3, r.process_name).bind(4, run);
    p.bind(5, std::int64_t{r.rank}).run();
  }
}

}  // namespace

bool has_gpu_tables(const Database& db) {
  Stmt s(db.handle(), "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'gpu_captures'");
  const bool found = s.step();
  s.reset();
  return found;
}

void add_gpu_activity(Database& db, std::int64_t run, const GpuActivityRows& rows) {
  const std::optional<RunInfo> info = db.run(run);
  if (!info) throw DbError(db.path() + ": no run " + std::to_string(run) + " to store GPU activity for");
  sqlite3* h = db.handle();
  Transaction tx(h);
  write_session_start(h, run, info->started_at);
  write_captures(h, run, rows.captures);
  write_devices(h, run, rows.devices);
  write_kernels(db, run, rows.kernels);
  write_memcpys(h, run, rows.memcpys);
  write_memsets(h, run, rows.memsets);
  write_runtime(db, run, rows.runtime);
  write_nvtx(db, run, rows.nvtx);
  tx.commit();
}

GpuActivityRows gpu_activity(const Database& db, std::int64_t run) {
  GpuActivityRows out;
  if (!has_gpu_tables(db)) return out;  // a read-only project of schema 1 or 2
  sqlite3* h = db.handle();
  {
    Stmt s(h,
           "SELECT c.rank, c.status, c.dropped_records, c.overhead_records, c.overhead_ns, c.process_id, "
           "coalesce(p.name, '') FROM gpu_captures c LEFT JOIN PROCESSES p ON p.run = c.run AND p.rank = "
           "c.rank WHERE c.run = ? ORDER BY c.rank");
    s.bind(1, run);
    while (s.step())
      out.captures.push_back({s.i32(0), s.text(1), s.i64(2), s.i64(3), s.i64(4), s.i64(5), s.text(6)});
  }
  {
    Stmt s(h,
           "SELECT rank, id, coalesce(name, ''), coalesce(busLocation, ''), coalesce(uuid, ''), "
           "coalesce(chipName, ''), totalMemory, memoryBandwidth, l2CacheSize, clockRate, smCount, "
           "computeMajor, computeMinor FROM TARGET_INFO_GPU WHERE run = ? ORDER BY rank, id");
    s.bind(1, run);
    while (s.step())
      out.devices.push_back({s.i32(0), s.i64(1), s.text(2), s.text(3), s.text(4), s.text(5), s.i64(6),
                             s.i64(7), s.i64(8), s.i64(9), s.i32(10), s.i32(11), s.i32(12)});
  }
  {
    Stmt s(
        h,
        "SELECT k.rank, k.start, k.end, k.deviceId, k.contextId, k.streamId, k.correlationId, k.globalPid, "
        "k.event, coalesce(dn.value, ''), coalesce(sn.value, ''), coalesce(mn.value, ''), k.gridX, k.gridY, "
        "k.gridZ, k.blockX, k.blockY, k.blockZ, k.staticSharedMemory, k.dynamicSharedMemory, "
        "k.registersPerThread, coalesce(k.launchType, 0), coalesce(k.localMemoryTotal, 0), "
        "coalesce(k.gridId, 0) FROM CUPTI_ACTIVITY_KIND_KERNEL k LEFT JOIN StringIds dn ON dn.id = "
        "k.demangledName LEFT JOIN StringIds sn ON sn.id = k.shortName LEFT JOIN StringIds mn ON mn.id = "
        "k.mangledName WHERE k.run = ? ORDER BY k.rank, k.start");
    s.bind(1, run);
    while (s.step()) {
      GpuKernelRow k;
      k.rank = s.i32(0);
      k.start_ns = s.i64(1);
      k.end_ns = s.i64(2);
      k.device_id = s.i64(3);
      k.context_id = s.i64(4);
      k.stream_id = s.i64(5);
      k.correlation_id = s.i64(6);
      k.global_pid = s.i64(7);
      k.event = optional_at(s, 8);
      k.demangled_name = s.text(9);
      k.short_name = s.text(10);
      k.mangled_name = s.text(11);
      k.grid_x = s.i32(12);
      k.grid_y = s.i32(13);
      k.grid_z = s.i32(14);
      k.block_x = s.i32(15);
      k.block_y = s.i32(16);
      k.block_z = s.i32(17);
      k.static_shared_bytes = s.i32(18);
      k.dynamic_shared_bytes = s.i32(19);
      k.registers_per_thread = s.i32(20);
      k.launch_type = s.i32(21);
      k.local_memory_total = s.i64(22);
      k.grid_id = s.i64(23);
      out.kernels.push_back(std::move(k));
    }
  }
  {
    Stmt s(h,
           "SELECT rank, start, end, deviceId, contextId, streamId, correlationId, globalPid, event, bytes, "
           "copyKind, coalesce(srcKind, 0), coalesce(dstKind, 0), coalesce(srcDeviceId, -1), "
           "coalesce(dstDeviceId, -1) FROM CUPTI_ACTIVITY_KIND_MEMCPY WHERE run = ? ORDER BY rank, start");
    s.bind(1, run);
    while (s.step())
      out.memcpys.push_back({s.i32(0), s.i64(1), s.i64(2), s.i64(3), s.i64(4), s.i64(5), s.i64(6), s.i64(7),
                             optional_at(s, 8), s.i64(9), s.i32(10), s.i32(11), s.i32(12), s.i32(13),
                             s.i32(14)});
  }
  {
    Stmt s(h,
           "SELECT rank, start, end, deviceId, contextId, streamId, correlationId, globalPid, event, bytes, "
           "value, coalesce(memKind, 0) FROM CUPTI_ACTIVITY_KIND_MEMSET WHERE run = ? ORDER BY rank, start");
    s.bind(1, run);
    while (s.step())
      out.memsets.push_back({s.i32(0), s.i64(1), s.i64(2), s.i64(3), s.i64(4), s.i64(5), s.i64(6), s.i64(7),
                             optional_at(s, 8), s.i64(9), s.i32(10), s.i32(11)});
  }
  {
    Stmt s(
        h,
        "SELECT r.rank, r.start, r.end, r.globalTid, r.correlationId, coalesce(n.value, ''), r.returnValue, "
        "r.eventClass FROM CUPTI_ACTIVITY_KIND_RUNTIME r LEFT JOIN StringIds n ON n.id = r.nameId WHERE "
        "r.run = ? ORDER BY r.rank, r.start");
    s.bind(1, run);
    while (s.step())
      out.runtime.push_back(
          {s.i32(0), s.i64(1), s.i64(2), s.i64(3), s.i64(4), s.text(5), s.i32(6), s.i32(7)});
  }
  {
    Stmt s(
        h,
        "SELECT e.rank, e.start, e.end, e.globalTid, coalesce(t.value, e.text, ''), e.category, e.domainId, "
        "e.uint64Value, e.event FROM NVTX_EVENTS e LEFT JOIN StringIds t ON t.id = e.textId WHERE e.run = ? "
        "AND e.eventType = 59 ORDER BY e.rank, e.start");
    s.bind(1, run);
    while (s.step())
      out.nvtx.push_back({s.i32(0), s.i64(1), s.i64(2), s.i64(3), s.text(4), s.i32(5), s.i64(6),
                          static_cast<std::uint64_t>(s.i64(7)), optional_at(s, 8)});
  }
  return out;
}

}  // namespace parm::db
