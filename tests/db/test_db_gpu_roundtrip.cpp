// The nsys round trip: a run with GPU activity (written through add_gpu_activity) exported with export_nsys
// and imported again with import_nsys gives the same kernels per rank (names, durations, grid/block, stream,
// device), each pointing at the event it was imported as. The export holds only nsys' tables and columns, one
// process per rank, and is never half-written or written over an existing file.
#include <sqlite3.h>

#include <QTemporaryDir>
#include <QtTest>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "db/database.h"
#include "db/exporters.h"
#include "db/gpu_activity.h"
#include "tests/db/gpu_run_fixture.h"

using parm::db::Database;
using parm::db::DbError;
using parm::db::GpuKernelRow;

namespace {

std::vector<std::string> column_of(const std::string& path, const std::string& query) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s = nullptr;
  std::vector<std::string> out;
  if (sqlite3_prepare_v2(db, query.c_str(), -1, &s, nullptr) != SQLITE_OK) out.push_back(sqlite3_errmsg(db));
  while (s && sqlite3_step(s) == SQLITE_ROW) {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    out.emplace_back(text ? text : "NULL");
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

// Kernels of one rank, as the round trip must keep them.
void expect_same_kernels(const std::vector<GpuKernelRow>& a, const std::vector<GpuKernelRow>& b, int rank_a,
                         int rank_b) {
  std::vector<const GpuKernelRow*> x, y;
  for (const GpuKernelRow& k : a)
    if (k.rank == rank_a) x.push_back(&k);
  for (const GpuKernelRow& k : b)
    if (k.rank == rank_b) y.push_back(&k);
  QCOMPARE(y.size(), x.size());
  QVERIFY(!x.empty());
  for (std::size_t i = 0; i < x.size(); ++i) {
    QCOMPARE(y[i]->short_name, x[i]->short_name);
    QCOMPARE(y[i]->demangled_name, x[i]->demangled_name);
    QCOMPARE(y[i]->mangled_name, x[i]->mangled_name);
    QCOMPARE(y[i]->end_ns - y[i]->start_ns, x[i]->end_ns - x[i]->start_ns);
    QCOMPARE(y[i]->start_ns - y[0]->start_ns, x[i]->start_ns - x[0]->start_ns);
    QCOMPARE(y[i]->stream_id, x[i]->stream_id);
    QCOMPARE(y[i]->device_id, x[i]->device_id);
    QCOMPARE(y[i]->correlation_id, x[i]->correlation_id);
    QCOMPARE(y[i]->grid_x, x[i]->grid_x);
    QCOMPARE(y[i]->grid_y, x[i]->grid_y);
    QCOMPARE(y[i]->grid_z, x[i]->grid_z);
    QCOMPARE(y[i]->block_x, x[i]->block_x);
    QCOMPARE(y[i]->block_y, x[i]->block_y);
    QCOMPARE(y[i]->block_z, x[i]->block_z);
    QCOMPARE(y[i]->static_shared_bytes, x[i]->static_shared_bytes);
    QCOMPARE(y[i]->dynamic_shared_bytes, x[i]->dynamic_shared_bytes);
    QCOMPARE(y[i]->registers_per_thread, x[i]->registers_per_thread);
    QCOMPARE(y[i]->grid_id, x[i]->grid_id);
  }
}

}  // namespace

class TestDbGpuRoundTrip : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::string file(const std::string& name) const {
    return dir_.filePath(QString::fromStdString(name)).toStdString();
  }

  // Stores the fixture run of `shape` in a project, exports it, imports the export into a second project and
  // checks the kernels, rank by rank; `exported` is the export's path.
  void round_trip(const std::string& name, parm::test::GpuRunShape shape, std::string& exported) {
    Database source = Database::open(file(name + ".parm"), true);
    const parm::test::GpuRun g = parm::test::store_gpu_run(source, shape);
    exported = file(name + "-nsys.sqlite");
    parm::db::export_nsys(source, g.run, exported);
    Database target = Database::open(file(name + "-imported.parm"), true);
    const std::int64_t run = parm::db::import_nsys(target, exported);
    const auto info = target.run(run);
    QVERIFY(info);
    QCOMPARE(info->ranks, 2);
    const parm::db::GpuActivityRows back = parm::db::gpu_activity(target, run);
    for (int rank : {0, 1}) expect_same_kernels(g.rows.kernels, back.kernels, rank, rank);
    // Each imported kernel points at the event it became: same rank, same times.
    const std::vector<parm::db::EventRow> events = target.events(run);
    QCOMPARE(events.size(), std::size_t{2 * (4 + 1 + 1 + 2)});  // kernels, copy, memset, NVTX ranges per rank
    QCOMPARE(back.memsets.size(), std::size_t{2});
    QCOMPARE(back.memcpys.size(), std::size_t{2});
    QCOMPARE(back.nvtx.size(), std::size_t{4});
    QCOMPARE(back.devices.size(), std::size_t{2});
    QCOMPARE(back.devices[1].bus_location, g.rows.devices[1].bus_location);
    QCOMPARE(back.captures.at(1).process_name, std::string("parm worker (rank 1)"));
    for (const GpuKernelRow& k : back.kernels) {
      QVERIFY(k.event.has_value());
      bool found = false;
      for (const auto& e : events)
        found = found || (e.rank == k.rank && e.start_ns == k.start_ns && e.end_ns == k.end_ns &&
                          target.string(e.op) == k.short_name);
      QVERIFY2(found, k.short_name.c_str());
    }
    const auto joined =
        column_of(target.path(), "SELECT count(*) FROM kernel_ops WHERE run = " + std::to_string(run) +
                                     " AND op_name = shortName");
    QCOMPARE(joined, (std::vector<std::string>{"8"}));
  }

 private slots:
  void exportHoldsOnlyNsysTables() {
    Database db = Database::open(file("only.parm"), true);
    const parm::test::GpuRun g = parm::test::store_gpu_run(db);
    parm::test::store_gpu_run(db);  // a second run: not in the export
    const std::string out = file("only-nsys.sqlite");
    parm::db::export_nsys(db, g.run, out);
    const auto tables = column_of(out, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
    QCOMPARE(tables, (std::vector<std::string>{"CUPTI_ACTIVITY_KIND_KERNEL", "CUPTI_ACTIVITY_KIND_MEMCPY",
                                               "CUPTI_ACTIVITY_KIND_MEMSET", "CUPTI_ACTIVITY_KIND_RUNTIME",
                                               "NVTX_EVENTS", "PROCESSES", "StringIds", "TARGET_INFO_GPU",
                                               "TARGET_INFO_SESSION_START_TIME"}));
    for (const std::string& t : tables) {
      const auto ours = column_of(
          out, "SELECT name FROM pragma_table_info('" + t + "') WHERE name IN ('run', 'rank', 'event')");
      QVERIFY2(ours.empty(), t.c_str());
    }
    QCOMPARE(column_of(out, "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL"),
             (std::vector<std::string>{"8"}));
    // Times as stored (ns relative to the run origin = the session start).
    QCOMPARE(column_of(out, "SELECT min(start) FROM CUPTI_ACTIVITY_KIND_KERNEL"),
             (std::vector<std::string>{"11000"}));
    QCOMPARE(column_of(out, "SELECT utcEpochNs FROM TARGET_INFO_SESSION_START_TIME"),
             (std::vector<std::string>{"1767323045000000000"}));
    const std::int64_t pid1 = std::int64_t{4243} << 24;
    QCOMPARE(column_of(out, "SELECT DISTINCT globalPid FROM CUPTI_ACTIVITY_KIND_KERNEL ORDER BY 1"),
             (std::vector<std::string>{std::to_string(std::int64_t{4242} << 24), std::to_string(pid1)}));
    QCOMPARE(column_of(out, "SELECT globalTid FROM CUPTI_ACTIVITY_KIND_RUNTIME ORDER BY globalTid").back(),
             std::to_string(pid1 | 77));
    // Every string a row references is there, and no other run's: names resolve.
    QCOMPARE(
        column_of(out,
                  "SELECT count(*) FROM CUPTI_ACTIVITY_KIND_KERNEL k JOIN StringIds s ON s.id = k.shortName"),
        (std::vector<std::string>{"8"}));
    QCOMPARE(column_of(out, "SELECT value FROM StringIds WHERE value = 'parm'"), std::vector<std::string>{});
    QCOMPARE(column_of(out, "SELECT text FROM NVTX_EVENTS WHERE eventType = 75 ORDER BY rowid"),
             (std::vector<std::string>{"Parm", "Parm"}));
  }

  void roundTripKeepsTheKernels() {
    std::string out;
    round_trip("own", {}, out);
  }

  void severalRanksOnOneGpuStaySeveralRanks() {
    std::string out;
    round_trip("one-gpu", {true, false}, out);
    QCOMPARE(column_of(out, "SELECT DISTINCT deviceId FROM CUPTI_ACTIVITY_KIND_KERNEL"),
             (std::vector<std::string>{"0"}));
  }

  void ranksOfOneProcessGetTheirOwnProcess() {
    std::string out;
    round_trip("one-process", {false, true}, out);
    const auto pids = column_of(out, "SELECT DISTINCT globalPid FROM CUPTI_ACTIVITY_KIND_KERNEL");
    QCOMPARE(pids.size(), std::size_t{2});
    QCOMPARE(column_of(out, "SELECT count(DISTINCT globalPid) FROM PROCESSES"),
             (std::vector<std::string>{"2"}));
  }

  void existingOutputIsRefusedAndNothingHalfWritten() {
    Database db = Database::open(file("refuse.parm"), true);
    const parm::test::GpuRun g = parm::test::store_gpu_run(db);
    const std::string out = file("taken.sqlite");
    { std::ofstream(out) << "keep me"; }
    try {
      parm::db::export_nsys(db, g.run, out);
      QFAIL("wrote over an existing file");
    } catch (const DbError& e) {
      const std::string line = e.what();
      QVERIFY2(line.find(out + ": exists") == 0, line.c_str());
    }
    std::ifstream in(out);
    QCOMPARE(std::string(std::istreambuf_iterator<char>(in), {}), std::string("keep me"));
    // A folder that does not exist: refused, nothing left behind under any name.
    const std::string nowhere = file("missing-folder/out.sqlite");
    QVERIFY_THROWS_EXCEPTION(DbError, parm::db::export_nsys(db, g.run, nowhere));
    QVERIFY(!std::filesystem::exists(nowhere));
    QVERIFY_THROWS_EXCEPTION(DbError, parm::db::export_nsys(db, g.run + 99, file("no-run.sqlite")));
    QVERIFY(!std::filesystem::exists(file("no-run.sqlite")));
    for (const auto& entry : std::filesystem::directory_iterator(dir_.path().toStdString()))
      QVERIFY2(entry.path().string().find(".partial") == std::string::npos, entry.path().c_str());
  }
};

QTEST_GUILESS_MAIN(TestDbGpuRoundTrip)
#include "test_db_gpu_roundtrip.moc"
