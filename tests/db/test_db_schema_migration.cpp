// Schema upgrades (db/schema_migration.h): a project written by a parm of schema version 1 (ranks without the
// device columns) opens; opened for writing it is upgraded in place with its rows kept and the new columns at
// their defaults; read-only it is read with those defaults and left byte for byte as it was.
#include <sqlite3.h>

#include <QTemporaryDir>
#include <QtTest>
#include <fstream>
#include <string>

#include "db/database.h"
#include "db/schema.h"
#include "db/schema_migration.h"
#include "tests/hostile/read_only_place.h"

using parm::db::Database;
using parm::db::RankInfo;

namespace {

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

parm::db::RunInfo run_info(const std::string& name) {
  parm::db::RunInfo r;
  r.name = name;
  r.kind = "measured";
  r.started_at = "2025-01-02T03:04:05Z";
  r.backend = "cpu";
  r.ranks = 2;
  r.config_json = R"({"name":")" + name + R"("})";
  return r;
}

RankInfo rank_on(int rank, const std::string& host, const std::string& device) {
  RankInfo r;
  r.rank = rank;
  r.host = host;
  r.device = device;
  r.clock_offset_ns = -1500.5 * rank;
  r.clock_uncertainty_ns = 20;
  return r;
}

void sql(sqlite3* db, const char* text) {
  char* error = nullptr;
  if (sqlite3_exec(db, text, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : "?";
    sqlite3_free(error);
    QFAIL(message.c_str());
  }
}

std::int64_t schema_version_of(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s = nullptr;
  std::int64_t version = -1;
  if (sqlite3_prepare_v2(db, "SELECT max(version) FROM schema_version", -1, &s, nullptr) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW)
    version = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  sqlite3_close(db);
  return version;
}

// A project as schema version 1 wrote it: one run with two cpu ranks, no device columns, version 1. Made from
// the base schema (version 2) without the columns step 2 added, by plain SQL: a file of today's schema would
// already hold what the later steps add.
void write_version_1_project(const std::string& path) {
  sqlite3* db = nullptr;
  QCOMPARE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr),
           SQLITE_OK);
  sql(db, parm::db::kBaseSchemaSql);
  for (const auto& [table, column] : parm::db::schema_steps().front().added)
    sql(db, ("ALTER TABLE " + table + " DROP COLUMN " + column).c_str());
  sql(db,
      "INSERT INTO schema_version (version, created_by) VALUES (1, 'parm 0.1.0');"
      "INSERT INTO runs (name, kind, started_at, backend, ranks, complete, config_json) VALUES ('old', "
      "'measured', '2025-01-02T03:04:05Z', 'cpu', 2, 1, '{\"name\":\"old\"}');"
      "INSERT INTO ranks (run, rank, host, device, clock_offset_ns, clock_uncertainty_ns, clock_drift_ppm) "
      "VALUES (1, 0, 'node-a', 'cpu', 0, 20, 0), (1, 1, 'node-b', 'cpu', -1500.5, 20, 0);");
  sqlite3_close(db);
  QCOMPARE(schema_version_of(path), std::int64_t{1});
}

void expect_old_ranks_with_defaults(const Database& db) {
  const auto runs = db.runs();
  QCOMPARE(runs.size(), std::size_t{1});
  const auto ranks = db.ranks(runs.front().id);
  QCOMPARE(ranks.size(), std::size_t{2});
  QCOMPARE(ranks[1].host, std::string("node-b"));
  QCOMPARE(ranks[1].device, std::string("cpu"));
  QCOMPARE(ranks[1].clock_offset_ns, -1500.5);
  for (const RankInfo& r : ranks) {
    QCOMPARE(r.device_ordinal, -1);
    QCOMPARE(r.device_memory_bytes, std::int64_t{0});
    QCOMPARE(r.device_driver, std::string());
    QCOMPARE(r.peak_device_bytes, std::int64_t{0});
    QCOMPARE(r.device_allocations, std::int64_t{0});
  }
}

}  // namespace

class TestDbSchemaMigration : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;
  std::string file(const char* name) const { return dir_.filePath(name).toStdString(); }

 private slots:
  void stepsEndAtTheCurrentVersion() {
    QVERIFY(!parm::db::schema_steps().empty());
    QCOMPARE(parm::db::schema_steps().back().version, parm::db::kSchemaVersion);
    QVERIFY(parm::db::added_after(1, "ranks", "device_driver"));
    QVERIFY(!parm::db::added_after(2, "ranks", "device_driver"));
    QVERIFY(!parm::db::added_after(1, "ranks", "host"));  // a version 1 column is never excused
    QVERIFY(parm::db::added_after(2, "CUPTI_ACTIVITY_KIND_KERNEL", "event"));
    QVERIFY(!parm::db::added_after(2, "CUPTI_ACTIVITY_KIND_KERNEL", "shortName"));
    QVERIFY(parm::db::added_after(2, "gpu_captures"));
    QVERIFY(parm::db::added_after(2, "kernel_ops"));
    QVERIFY(!parm::db::added_after(3, "kernel_ops"));
    QVERIFY(!parm::db::added_after(1, "events"));
  }

  void deviceColumnsRoundTrip() {
    const std::string path = file("new.sqlite");
    Database db = Database::open(path, true);
    const std::int64_t run = db.begin_run(run_info("gpu"));
    RankInfo r = rank_on(0, "gpu-node", "NVIDIA H200");
    r.device_ordinal = 3;
    r.device_memory_bytes = 150'109'880'320;
    r.device_driver = "CUDA driver 13.0, runtime 13.0";
    r.peak_device_bytes = 123'456'789;
    r.device_allocations = 7;
    db.add_ranks(run, {r});
    const auto back = db.ranks(run);
    QCOMPARE(back.size(), std::size_t{1});
    QCOMPARE(back[0].device, r.device);
    QCOMPARE(back[0].device_ordinal, 3);
    QCOMPARE(back[0].device_memory_bytes, r.device_memory_bytes);
    QCOMPARE(back[0].device_driver, r.device_driver);
    QCOMPARE(back[0].peak_device_bytes, r.peak_device_bytes);
    QCOMPARE(back[0].device_allocations, std::int64_t{7});
    QCOMPARE(schema_version_of(path), std::int64_t{parm::db::kSchemaVersion});
  }

  void oldProjectIsUpgradedWhenOpenedForWriting() {
    const std::string path = file("old.sqlite");
    write_version_1_project(path);
    {
      Database db = Database::open(path, false);  // writable place: upgraded on open
      QVERIFY(!db.read_only());
      expect_old_ranks_with_defaults(db);
      const std::int64_t run = db.begin_run(run_info("new"));
      RankInfo r = rank_on(0, "gpu-node", "NVIDIA H100");
      r.device_ordinal = 0;
      r.device_allocations = 2;
      db.add_ranks(run, {r});
      QCOMPARE(db.ranks(run).at(0).device_allocations, std::int64_t{2});
    }
    QCOMPARE(schema_version_of(path), std::int64_t{parm::db::kSchemaVersion});
    Database again = Database::open(path, true);  // a second open finds nothing left to upgrade
    QCOMPARE(again.runs().size(), std::size_t{2});
    QCOMPARE(again.ranks(again.runs().back().id).at(0).device, std::string("NVIDIA H100"));
  }

  void oldReadOnlyProjectReadsWithDefaults() {
    const std::string folder = file("locked");
    std::filesystem::create_directory(folder);
    write_version_1_project(folder + "/old.sqlite");
    hostile::ReadOnlyPlace place(QString::fromStdString(folder), dir_.filePath("locked-view"), "old.sqlite");
    if (place.file.isEmpty()) QSKIP("no read-only place can be made here");
    const std::string path = place.file.toStdString();
    const std::string before = slurp(path);
    {
      Database db = Database::open(path, false);
      QVERIFY(db.read_only());
      expect_old_ranks_with_defaults(db);
    }
    QVERIFY(slurp(path) == before);
  }
};

QTEST_GUILESS_MAIN(TestDbSchemaMigration)
#include "test_db_schema_migration.moc"
