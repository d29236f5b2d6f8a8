// GPU activity storage (db/gpu_activity.h, schema version 3): rows built in the test are written through
// add_gpu_activity and read back field by field; the kernel_ops view gives each kernel its op; NVTX ranges
// are stored the way nsys stores them (domain and category rows); a version 2 project upgrades with its runs
// kept and, read-only, reads as having no GPU activity; broken files are still refused in one line.
#include <sqlite3.h>

#include <QTemporaryDir>
#include <QtTest>
#include <filesystem>
#include <fstream>
#include <string>

#include "db/database.h"
#include "db/gpu_activity.h"
#include "db/schema.h"
#include "tests/db/gpu_run_fixture.h"
#include "tests/hostile/read_only_place.h"

using parm::db::Database;
using parm::db::DbError;

namespace {

void sql(sqlite3* db, const std::string& text) {
  char* error = nullptr;
  if (sqlite3_exec(db, text.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : "?";
    sqlite3_free(error);
    QFAIL(message.c_str());
  }
}

// Rows of `query` as text, one string per row, columns joined by '|' (NULL as "NULL").
std::vector<std::string> rows_of(sqlite3* db, const std::string& query) {
  sqlite3_stmt* s = nullptr;
  std::vector<std::string> out;
  if (sqlite3_prepare_v2(db, query.c_str(), -1, &s, nullptr) != SQLITE_OK) {
    out.push_back(std::string("ERROR ") + sqlite3_errmsg(db));
    return out;
  }
  while (sqlite3_step(s) == SQLITE_ROW) {
    std::string row;
    for (int c = 0; c < sqlite3_column_count(s); ++c) {
      const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, c));
      row += (c ? "|" : "") + std::string(text ? text : "NULL");
    }
    out.push_back(row);
  }
  sqlite3_finalize(s);
  return out;
}

// A project as schema version 2 wrote it (its DDL, version 2, one run with two ranks), by plain SQL.
void write_version_2_project(const std::string& path) {
  sqlite3* db = nullptr;
  QCOMPARE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr),
           SQLITE_OK);
  sql(db, parm::db::kBaseSchemaSql);
  sql(db,
      "INSERT INTO schema_version (version, created_by) VALUES (2, 'parm 0.1.0');"
      "INSERT INTO runs (name, kind, started_at, backend, ranks, complete) VALUES "
      "('v2-run', 'measured', '2025-06-01T00:00:00Z', 'cpu', 2, 1);"
      "INSERT INTO ranks (run, rank, host, device, clock_offset_ns, clock_uncertainty_ns, clock_drift_ppm, "
      "device_ordinal) VALUES (1, 0, 'a', 'cpu', 0, 0, 0, -1), (1, 1, 'b', 'cpu', 5, 1, 0, -1);");
  sqlite3_close(db);
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

class TestDbGpuActivity : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::string file(const char* name) const { return dir_.filePath(name).toStdString(); }

 private slots:
  void rowsReadBackFieldByField() {
    Database db = Database::open(file("gpu.sqlite"), true);
    const parm::test::GpuRun g = parm::test::store_gpu_run(db);
    const parm::db::GpuActivityRows back = parm::db::gpu_activity(db, g.run);
    const parm::db::GpuActivityRows& in = g.rows;

    QCOMPARE(back.captures.size(), in.captures.size());
    for (std::size_t i = 0; i < in.captures.size(); ++i) {
      QCOMPARE(back.captures[i].rank, in.captures[i].rank);
      QCOMPARE(back.captures[i].status, in.captures[i].status);
      QCOMPARE(back.captures[i].dropped_records, in.captures[i].dropped_records);
      QCOMPARE(back.captures[i].overhead_records, in.captures[i].overhead_records);
      QCOMPARE(back.captures[i].overhead_ns, in.captures[i].overhead_ns);
      QCOMPARE(back.captures[i].process_id, in.captures[i].process_id);
      QCOMPARE(back.captures[i].process_name, in.captures[i].process_name);
    }
    QCOMPARE(back.devices.size(), in.devices.size());
    for (std::size_t i = 0; i < in.devices.size(); ++i) {
      const auto &a = back.devices[i], &b = in.devices[i];
      QCOMPARE(a.rank, b.rank);
      QCOMPARE(a.id, b.id);
      QCOMPARE(a.name, b.name);
      QCOMPARE(a.bus_location, b.bus_location);
      QCOMPARE(a.uuid, b.uuid);
      QCOMPARE(a.chip_name, b.chip_name);
      QCOMPARE(a.total_memory, b.total_memory);
      QCOMPARE(a.memory_bandwidth, b.memory_bandwidth);
      QCOMPARE(a.l2_cache_size, b.l2_cache_size);
      QCOMPARE(a.clock_rate, b.clock_rate);
      QCOMPARE(a.sm_count, b.sm_count);
      QCOMPARE(a.compute_major, b.compute_major);
      QCOMPARE(a.compute_minor, b.compute_minor);
    }
    // Kernels come back ordered by (rank, start): the fixture wrote them in that order.
    QCOMPARE(back.kernels.size(), in.kernels.size());
    for (std::size_t i = 0; i < in.kernels.size(); ++i) {
      const auto &a = back.kernels[i], &b = in.kernels[i];
      QCOMPARE(a.rank, b.rank);
      QCOMPARE(a.start_ns, b.start_ns);
      QCOMPARE(a.end_ns, b.end_ns);
      QCOMPARE(a.device_id, b.device_id);
      QCOMPARE(a.context_id, b.context_id);
      QCOMPARE(a.stream_id, b.stream_id);
      QCOMPARE(a.correlation_id, b.correlation_id);
      QCOMPARE(a.global_pid, b.global_pid);
      QCOMPARE(a.event, b.event);
      QCOMPARE(a.demangled_name, b.demangled_name);
      QCOMPARE(a.short_name, b.short_name);
      QCOMPARE(a.mangled_name, b.mangled_name);
      QCOMPARE(a.grid_x, b.grid_x);
      QCOMPARE(a.grid_y, b.grid_y);
      QCOMPARE(a.grid_z, b.grid_z);
      QCOMPARE(a.block_x, b.block_x);
      QCOMPARE(a.block_y, b.block_y);
      QCOMPARE(a.block_z, b.block_z);
      QCOMPARE(a.static_shared_bytes, b.static_shared_bytes);
      QCOMPARE(a.dynamic_shared_bytes, b.dynamic_shared_bytes);
      QCOMPARE(a.registers_per_thread, b.registers_per_thread);
      QCOMPARE(a.launch_type, b.launch_type);
      QCOMPARE(a.local_memory_total, b.local_memory_total);
      QCOMPARE(a.grid_id, b.grid_id);
    }
    QVERIFY(!back.kernels[3].event.has_value());
    QCOMPARE(back.memcpys.size(), in.memcpys.size());
    for (std::size_t i = 0; i < in.memcpys.size(); ++i) {
      const auto &a = back.memcpys[i], &b = in.memcpys[i];
      QCOMPARE(a.rank, b.rank);
      QCOMPARE(a.start_ns, b.start_ns);
      QCOMPARE(a.end_ns, b.end_ns);
      QCOMPARE(a.device_id, b.device_id);
      QCOMPARE(a.stream_id, b.stream_id);
      QCOMPARE(a.correlation_id, b.correlation_id);
      QCOMPARE(a.global_pid, b.global_pid);
      QCOMPARE(a.event, b.event);
      QCOMPARE(a.bytes, b.bytes);
      QCOMPARE(a.copy_kind, b.copy_kind);
      QCOMPARE(a.src_kind, b.src_kind);
      QCOMPARE(a.dst_kind, b.dst_kind);
      QCOMPARE(a.src_device_id, b.src_device_id);
      QCOMPARE(a.dst_device_id, b.dst_device_id);
    }
    QCOMPARE(back.memsets.size(), in.memsets.size());
    for (std::size_t i = 0; i < in.memsets.size(); ++i) {
      const auto &a = back.memsets[i], &b = in.memsets[i];
      QCOMPARE(a.rank, b.rank);
      QCOMPARE(a.start_ns, b.start_ns);
      QCOMPARE(a.end_ns, b.end_ns);
      QCOMPARE(a.stream_id, b.stream_id);
      QCOMPARE(a.event, b.event);
      QCOMPARE(a.bytes, b.bytes);
      QCOMPARE(a.value, b.value);
      QCOMPARE(a.memory_kind, b.memory_kind);
    }
    QCOMPARE(back.runtime.size(), in.runtime.size());
    for (std::size_t i = 0; i < in.runtime.size(); ++i) {
      const auto &a = back.runtime[i], &b = in.runtime[i];
      QCOMPARE(a.rank, b.rank);
      QCOMPARE(a.start_ns, b.start_ns);
      QCOMPARE(a.end_ns, b.end_ns);
      QCOMPARE(a.global_tid, b.global_tid);
      QCOMPARE(a.correlation_id, b.correlation_id);
      QCOMPARE(a.name, b.name);
      QCOMPARE(a.return_value, b.return_value);
      QCOMPARE(a.event_class, b.event_class);
    }
    QCOMPARE(back.nvtx.size(), in.nvtx.size());
    for (std::size_t i = 0; i < in.nvtx.size(); ++i) {
      const auto &a = back.nvtx[i], &b = in.nvtx[i];
      QCOMPARE(a.rank, b.rank);
      QCOMPARE(a.start_ns, b.start_ns);
      QCOMPARE(a.end_ns, b.end_ns);
      QCOMPARE(a.global_tid, b.global_tid);
      QCOMPARE(a.text, b.text);
      QCOMPARE(a.category, b.category);
      QCOMPARE(a.domain_id, b.domain_id);
      QCOMPARE(a.payload, b.payload);
      QCOMPARE(a.event, b.event);
    }
    QVERIFY(parm::db::gpu_activity(db, g.run + 1).kernels.empty());  // another run has none
  }

  void kernelOpsGivesEachKernelItsOp() {
    Database db = Database::open(file("join.sqlite"), true);
    const parm::test::GpuRun g = parm::test::store_gpu_run(db);
    const auto rows = rows_of(db.handle(),
                              "SELECT rank, shortName, op_name, schedule_name, iteration, chunk, lane FROM "
                              "kernel_ops WHERE run = " +
                                  std::to_string(g.run) + " ORDER BY rank, start");
    const std::vector<std::string> expected{
        "0|expert_gemm|experts|parm|3|1|0",
        "0|expert_gemm|experts|parm|3|1|0",
        "0|ncclDevKernel_AllToAll|AlltoAll|parm|3|-1|2",
        "0|ncclDevKernel_AllToAll|NULL|NULL|NULL|NULL|NULL",  // launched outside any traced op
        "1|expert_gemm|experts|parm|3|1|0",
        "1|expert_gemm|experts|parm|3|1|0",
        "1|ncclDevKernel_AllToAll|AlltoAll|parm|3|-1|2",
        "1|ncclDevKernel_AllToAll|NULL|NULL|NULL|NULL|NULL",
    };
    QCOMPARE(rows, expected);
    const auto ops =
        rows_of(db.handle(), "SELECT kind, count(*) FROM gpu_ops WHERE run = " + std::to_string(g.run) +
                                 " GROUP BY kind ORDER BY kind");
    QCOMPARE(ops, (std::vector<std::string>{"kernel|8", "memcpy|2", "memset|2"}));
  }

  void nvtxIsStoredTheWayNsysStoresIt() {
    Database db = Database::open(file("nvtx.sqlite"), true);
    const parm::test::GpuRun g = parm::test::store_gpu_run(db);
    const auto rows =
        rows_of(db.handle(),
                "SELECT e.eventType, coalesce(e.text, s.value), e.category, e.domainId, "
                "e.uint64Value FROM NVTX_EVENTS e LEFT JOIN StringIds s ON s.id = e.textId WHERE "
                "e.run = " +
                    std::to_string(g.run) + " AND e.rank = 0 ORDER BY e.rowid");
    const std::vector<std::string> expected{"75|Parm|0|1|NULL", "33|compute|1|1|NULL",
                                            "33|inter-node|3|1|NULL", "59|experts|1|1|3",
                                            "59|AlltoAll|3|1|3"};
    QCOMPARE(rows, expected);
    QCOMPARE(rows_of(db.handle(), "SELECT utcEpochNs, utcTime FROM TARGET_INFO_SESSION_START_TIME"),
             (std::vector<std::string>{"1767323045000000000|2026-01-02T03:04:05Z"}));
    QCOMPARE(
        rows_of(db.handle(), "SELECT globalPid, pid, name FROM PROCESSES WHERE rank = 1"),
        (std::vector<std::string>{std::to_string(std::int64_t{4243} << 24) + "|4243|parm worker (rank 1)"}));
  }

  void versionTwoProjectUpgradesAndKeepsItsRuns() {
    const std::string path = file("v2.sqlite");
    write_version_2_project(path);
    {
      Database db = Database::open(path, true);
      QCOMPARE(db.runs().size(), std::size_t{1});
      QCOMPARE(db.runs().front().name, std::string("v2-run"));
      QCOMPARE(db.ranks(1).size(), std::size_t{2});
      QCOMPARE(db.ranks(1).at(1).clock_offset_ns, 5.0);
      QVERIFY(parm::db::has_gpu_tables(db));
      QVERIFY(parm::db::gpu_activity(db, 1).kernels.empty());
      const parm::test::GpuRun g = parm::test::store_gpu_run(db);  // the upgraded file takes GPU rows
      QCOMPARE(parm::db::gpu_activity(db, g.run).kernels.size(), std::size_t{8});
    }
    sqlite3* raw = nullptr;
    sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
    QCOMPARE(rows_of(raw, "SELECT max(version) FROM schema_version"), (std::vector<std::string>{"3"}));
    sqlite3_close(raw);
  }

  void versionTwoReadOnlyReadsNoGpuActivity() {
    const std::string folder = file("locked");
    std::filesystem::create_directory(folder);
    write_version_2_project(folder + "/v2.sqlite");
    hostile::ReadOnlyPlace place(QString::fromStdString(folder), dir_.filePath("locked-view"), "v2.sqlite");
    if (place.file.isEmpty()) QSKIP("no read-only place can be made here");
    const std::string path = place.file.toStdString();
    const std::string before = slurp(path);
    {
      Database db = Database::open(path, false);
      QVERIFY(db.read_only());
      QVERIFY(!parm::db::has_gpu_tables(db));
      const parm::db::GpuActivityRows rows = parm::db::gpu_activity(db, 1);
      QVERIFY(rows.kernels.empty() && rows.captures.empty() && rows.nvtx.empty());
      QCOMPARE(db.runs().size(), std::size_t{1});
    }
    QVERIFY(slurp(path) == before);
  }

  void brokenFilesAreStillOneLine() {
    // A version 3 file that lost a GPU table is incomplete, named.
    const std::string lost = file("lost.sqlite");
    { Database db = Database::open(lost, true); }
    sqlite3* raw = nullptr;
    sqlite3_open_v2(lost.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
    sql(raw, "DROP TABLE gpu_captures");
    sqlite3_close(raw);
    try {
      Database::open(lost, false);
      QFAIL("a project without gpu_captures opened");
    } catch (const DbError& e) {
      const std::string line = e.what();
      QVERIFY2(line.find("missing table gpu_captures") != std::string::npos, line.c_str());
      QVERIFY(line.find('\n') == std::string::npos);
    }
    // An Nsight Systems export is another application's file, not a project (nor upgraded into one).
    const std::string nsys = file("report.sqlite");
    sqlite3_open_v2(nsys.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    sql(raw,
        "CREATE TABLE StringIds (id INTEGER PRIMARY KEY, value TEXT); CREATE TABLE "
        "CUPTI_ACTIVITY_KIND_KERNEL "
        "(start INTEGER, end INTEGER)");
    sqlite3_close(raw);
    const std::string before = slurp(nsys);
    try {
      Database::open(nsys, true);
      QFAIL("an nsys export opened as a project");
    } catch (const DbError& e) {
      const std::string line = e.what();
      QVERIFY2(line.find("not a Parm Studio database") != std::string::npos, line.c_str());
      QVERIFY(line.find('\n') == std::string::npos);
    }
    QVERIFY(slurp(nsys) == before);
  }
};

QTEST_GUILESS_MAIN(TestDbGpuActivity)
#include "test_db_gpu_activity.moc"
