// copy_runs (db/run_copy.h): a run copied into another project reads exactly as the original through every
// reader (events, predictions, counters, calibrations, lanes, ranks, GPU activity with its launching ops),
// although the destination's strings, run ids and event ids were different; a refused copy writes nothing.
#include <sqlite3.h>

#include <QTemporaryDir>
#include <QtTest>
#include <string>
#include <tuple>
#include <vector>

#include "db/database.h"
#include "db/gpu_activity.h"
#include "db/run_copy.h"
#include "tests/db/gpu_run_fixture.h"

using parm::db::Database;
using parm::db::DbError;
using parm::db::EventRow;

namespace {

// An event with its strings spelled out: ids differ between projects, texts must not.
using Resolved = std::tuple<int, int, std::string, int, int, std::string, std::string, std::string, int, int,
                            std::int64_t, std::int64_t, std::int64_t, std::int64_t>;

std::vector<Resolved> resolved(const Database& db, const std::vector<EventRow>& rows) {
  std::vector<Resolved> out;
  for (const EventRow& e : rows)
    out.emplace_back(e.rank, e.lane, db.string(e.schedule), e.iteration, e.phase, db.string(e.op),
                     db.string(e.group), db.string(e.purpose), e.comm, e.chunk, e.bytes, e.seq, e.start_ns,
                     e.end_ns);
  return out;
}

// The op an event id names, as (rank, start, op text); "none" for no id.
std::string op_of(const Database& db, std::optional<std::int64_t> id) {
  if (!id) return "none";
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db.handle(), "SELECT rank, start_ns, op FROM events WHERE id = ?", -1, &s, nullptr);
  sqlite3_bind_int64(s, 1, *id);
  std::string out = "missing";
  if (sqlite3_step(s) == SQLITE_ROW)
    out = std::to_string(sqlite3_column_int(s, 0)) + "@" + std::to_string(sqlite3_column_int64(s, 1)) + " " +
          db.string(sqlite3_column_int(s, 2));
  sqlite3_finalize(s);
  return out;
}

std::int64_t scalar(const Database& db, const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db.handle(), sql.c_str(), -1, &s, nullptr);
  const std::int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
  sqlite3_finalize(s);
  return v;
}

}  // namespace

class TestDbRunCopy : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  std::string path(const char* name) const { return dir_.filePath(name).toStdString(); }

  // A source with two runs: a plain measured one (ranks, events, predictions, counters, calibrations, lanes,
  // result, complete) and the GPU fixture's run.
  std::string make_source(const char* name, std::int64_t* measured, std::int64_t* gpu) {
    Database db = Database::open(path(name), true);
    parm::db::RunInfo info;
    info.name = "copied";
    info.kind = "measured";
    info.started_at = "2026-12-03T10:00:00Z";
    info.backend = "cpu";
    info.ranks = 2;
    info.config_json = R"({"name":"copied"})";
    info.origin_ns = 777;
    *measured = db.begin_run(info);
    db.add_ranks(*measured, {{0, "node-a", "cpu", 1.5, 2.5, 0.1}, {1, "node-b", "cpu", -3.0, 4.0, 0.2}});
    std::vector<EventRow> events;
    for (int i = 0; i < 6; ++i) {
      EventRow e;
      e.rank = i % 2;
      e.lane = i % 3;
      e.schedule = db.intern(i < 3 ? "S1" : "S2");
      e.op = db.intern(i % 2 ? "AlltoAll" : "experts");
      e.group = db.intern(i % 2 ? "EP" : "-");
      e.purpose = db.intern("dispatch");
      e.comm = i % 2 ? 0 : -1;
      e.seq = i % 2 ? i : -1;
      e.bytes = 100 * i;
      e.iteration = i / 2;
      e.start_ns = 1000 * i;
      e.end_ns = 1000 * i + 500;
      events.push_back(e);
    }
    db.add_events(*measured, events);
    db.add_predictions(*measured, std::vector<EventRow>(events.begin(), events.begin() + 3));
    db.add_counters(*measured, {{0, "S1", "forward", "AlltoAll", "EP", "dispatch", "no", 4096, 2}});
    db.add_calibration(*measured, {{"AlltoAll", "EP", 1e-5, 2e-9, 0.99, 12}});
    db.add_lane_names(*measured, {{1, 3, "stream 13"}});
    db.set_result(*measured, R"({"schedules":[]})");
    db.finish_run(*measured);
    *gpu = parm::test::store_gpu_run(db).run;
    return path(name);
  }

  // A destination that already has a run of its own, with other strings first (so every id differs).
  Database make_destination(const char* name, std::int64_t* own) {
    Database db = Database::open(path(name), true);
    for (const char* text : {"zeta", "eta", "theta", "iota"}) db.intern(text);
    parm::db::RunInfo info;
    info.name = "own";
    info.kind = "measured";
    info.started_at = "2026-12-01T00:00:00Z";
    info.backend = "cpu";
    info.ranks = 1;
    *own = db.begin_run(info);
    std::vector<EventRow> events(3);
    for (int i = 0; i < 3; ++i) {
      events[i].schedule = db.intern("B_DS");
      events[i].op = db.intern("zeta");
      events[i].group = db.intern("-");
      events[i].purpose = db.intern("eta");
      events[i].start_ns = i;
      events[i].end_ns = i + 1;
    }
    db.add_events(*own, events);
    db.finish_run(*own);
    return db;
  }

 private slots:
  void initTestCase() { QVERIFY(dir_.isValid()); }

  void copiedRunsReadAsTheOriginals() {
    std::int64_t measured = 0, gpu = 0, own = 0;
    const std::string source_path = make_source("source.parm", &measured, &gpu);
    Database dst = make_destination("destination.parm", &own);
    const std::vector<EventRow> own_before = dst.events(own);

    const std::vector<parm::db::CopiedRun> copied = parm::db::copy_runs(dst, source_path);
    QCOMPARE(copied.size(), std::size_t(2));
    QCOMPARE(copied[0].source_id, measured);
    QCOMPARE(copied[1].source_id, gpu);
    QCOMPARE(copied[0].complete, true);
    QVERIFY(copied[0].id != own && copied[1].id != own && copied[0].id != copied[1].id);

    const Database src = Database::open(source_path, false);
    for (const auto& c : copied) {
      const auto a = src.run(c.source_id), b = dst.run(c.id);
      QVERIFY(a && b);
      QCOMPARE(b->name, a->name);
      QCOMPARE(b->kind, a->kind);
      QCOMPARE(b->started_at, a->started_at);
      QCOMPARE(b->backend, a->backend);
      QCOMPARE(b->ranks, a->ranks);
      QCOMPARE(b->complete, a->complete);
      QCOMPARE(b->config_json, a->config_json);
      QCOMPARE(b->result_json, a->result_json);
      QCOMPARE(b->origin_ns, a->origin_ns);
      QCOMPARE(dst.event_count(c.id), src.event_count(c.source_id));
      QVERIFY(resolved(dst, dst.events(c.id)) == resolved(src, src.events(c.source_id)));
      QVERIFY(resolved(dst, dst.predictions(c.id)) == resolved(src, src.predictions(c.source_id)));
      QCOMPARE(dst.ranks(c.id).size(), src.ranks(c.source_id).size());
      for (std::size_t r = 0; r < src.ranks(c.source_id).size(); ++r) {
        QCOMPARE(dst.ranks(c.id)[r].host, src.ranks(c.source_id)[r].host);
        QCOMPARE(dst.ranks(c.id)[r].clock_offset_ns, src.ranks(c.source_id)[r].clock_offset_ns);
      }
    }
    const auto counters = dst.counters(copied[0].id);
    QCOMPARE(counters.size(), std::size_t(1));
    QCOMPARE(counters[0].op, std::string("AlltoAll"));
    QCOMPARE(counters[0].bytes, std::int64_t(4096));
    const auto fits = dst.calibrations(copied[0].id);
    QCOMPARE(fits.size(), std::size_t(1));
    QCOMPARE(fits[0].beta_s_per_byte, 2e-9);
    QCOMPARE(dst.lane_names(copied[0].id).size(), std::size_t(1));
    QCOMPARE(dst.lane_names(copied[0].id)[0].name, std::string("stream 13"));

    // GPU rows: the same kernels, copies, memsets, runtime calls and ranges, each still naming its own op.
    const auto ga = parm::db::gpu_activity(src, gpu), gb = parm::db::gpu_activity(dst, copied[1].id);
    QCOMPARE(gb.kernels.size(), ga.kernels.size());
    QVERIFY(!ga.kernels.empty());
    for (std::size_t k = 0; k < ga.kernels.size(); ++k) {
      QCOMPARE(gb.kernels[k].demangled_name, ga.kernels[k].demangled_name);
      QCOMPARE(gb.kernels[k].short_name, ga.kernels[k].short_name);
      QCOMPARE(gb.kernels[k].start_ns, ga.kernels[k].start_ns);
      QCOMPARE(op_of(dst, gb.kernels[k].event), op_of(src, ga.kernels[k].event));
    }
    QCOMPARE(gb.memcpys.size(), ga.memcpys.size());
    QCOMPARE(op_of(dst, gb.memcpys[0].event), op_of(src, ga.memcpys[0].event));
    QCOMPARE(gb.memsets.size(), ga.memsets.size());
    QCOMPARE(gb.runtime.size(), ga.runtime.size());
    QCOMPARE(gb.nvtx.size(), ga.nvtx.size());
    QCOMPARE(gb.captures.size(), ga.captures.size());
    QCOMPARE(gb.captures[1].status, ga.captures[1].status);
    QCOMPARE(gb.devices.size(), ga.devices.size());

    // The destination's own run is untouched, event ids stay unique and the next one is past them all.
    QVERIFY(resolved(dst, dst.events(own)) == resolved(dst, own_before));
    QCOMPARE(scalar(dst, "SELECT count(*) - count(DISTINCT id) FROM event_spans"), std::int64_t(0));
    QVERIFY(scalar(dst, "SELECT next FROM event_ids") > scalar(dst, "SELECT max(id) FROM event_spans"));
  }

  // Every table holding rows under a run gets as many under the copy: a table added to the schema later is
  // copied too, or this fails.
  void everyTableUnderARunIsCopied() {
    std::int64_t measured = 0, gpu = 0, own = 0;
    const std::string source_path = make_source("source2.parm", &measured, &gpu);
    Database dst = make_destination("destination2.parm", &own);
    const auto copied = parm::db::copy_runs(dst, source_path);
    const Database src = Database::open(source_path, false);
    int tables = 0;
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(src.handle(),
                       "SELECT m.name FROM sqlite_master AS m WHERE m.type = 'table' AND EXISTS "
                       "(SELECT 1 FROM pragma_table_info(m.name) WHERE name = 'run')",
                       -1, &s, nullptr);
    while (sqlite3_step(s) == SQLITE_ROW) {
      const std::string table = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
      for (const auto& c : copied) {
        const std::string count = "SELECT count(*) FROM \"" + table + "\" WHERE run = ";
        QCOMPARE(scalar(dst, count + std::to_string(c.id)), scalar(src, count + std::to_string(c.source_id)));
      }
      ++tables;
    }
    sqlite3_finalize(s);
    QVERIFY2(tables >= 15, qPrintable(QString::number(tables)));  // ranks ... gpu_captures
    QCOMPARE(scalar(dst, "SELECT count(*) FROM gpu_captures WHERE run = " + std::to_string(copied[1].id)),
             std::int64_t(2));
  }

  // Not a project, or the project itself: one DbError, nothing written.
  void refusedCopiesWriteNothing() {
    std::int64_t own = 0;
    Database dst = make_destination("destination3.parm", &own);
    const std::string text = path("notes.txt");
    FILE* f = std::fopen(text.c_str(), "w");
    std::fputs("not a database\n", f);
    std::fclose(f);
    QVERIFY_THROWS_EXCEPTION(DbError, parm::db::copy_runs(dst, text));
    QVERIFY_THROWS_EXCEPTION(DbError, parm::db::copy_runs(dst, path("missing.parm")));
    QVERIFY_THROWS_EXCEPTION(DbError, parm::db::copy_runs(dst, dst.path()));
    QCOMPARE(dst.runs().size(), std::size_t(1));
    QCOMPARE(scalar(dst, "SELECT count(*) FROM event_spans"), std::int64_t(3));
  }
};

QTEST_GUILESS_MAIN(TestDbRunCopy)
#include "test_db_run_copy.moc"
