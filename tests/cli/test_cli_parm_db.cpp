// `parm runs`, `parm show`, `parm export`, `parm import-nsys` and `parm merge` as users call them, on files
// built here.
#include <sqlite3.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

#include "db/database.h"
#include "engine/core/run_result.h"
#include "tests/db/gpu_run_fixture.h"
#include "tests/support/parm_process.h"

namespace {

using Result = parm_test::ProcessResult;

Result run_parm(const QStringList& args) {
  return parm_test::run_parm(args, {.working_directory = {}, .fatal_on_timeout = true});
}

bool one_line_naming(const Result& r, const QString& what) {
  const QByteArray err = r.err.trimmed();
  return r.out.isEmpty() && !err.isEmpty() && !err.contains('\n') && err.contains(what.toUtf8());
}

// Two ranks, B_DS and S1: B_DS total 5 ms, S1 2.5 ms (see test_engine_run_result.cpp for the arithmetic).
parm::RunResult sample_result() {
  using namespace parm;
  auto schedule = [](ScheduleKind kind, std::vector<double> fwd_ms, std::vector<double> bwd_ms) {
    RankScheduleResult s;
    s.kind = kind;
    for (double v : fwd_ms) s.forward_s.push_back(v * 1e-3);
    for (double v : bwd_ms) s.backward_s.push_back(v * 1e-3);
    return s;
  };
  RunResult r;
  r.config.name = "sample";
  r.config.parallel.ranks = 2;
  r.config.parallel.mp = 2;
  r.backend = "cpu";
  RankRunResult r0{0, "host-a", {}}, r1{1, "host-b", {}};
  r0.schedules = {schedule(ScheduleKind::B_DS, {1, 5, 2}, {3, 1, 1}),
                  schedule(ScheduleKind::S1, {1, 1, 1}, {1, 1, 1})};
  r1.schedules = {schedule(ScheduleKind::B_DS, {4, 1, 3}, {1, 1, 2}),
                  schedule(ScheduleKind::S1, {1, 2, 1.5}, {1, 1, 1})};
  r.ranks = {r0, r1};
  return r;
}

// Run 1: complete, with a result and 2 x 3 events (one AlltoAll collective across both ranks).
// Run 2: begun and never finished.
void build_project(const std::string& path) {
  using parm::db::EventRow;
  parm::db::Database db = parm::db::Database::open(path, true);
  parm::db::RunInfo info;
  info.name = "sample";
  info.kind = "measured";
  info.backend = "cpu";
  info.ranks = 2;
  const std::int64_t run = db.begin_run(info);
  db.add_ranks(run, {{0, "host-a", "cpu", 0, 0, 0}, {1, "host-b", "cpu", 0, 0, 0}});
  const std::int32_t s = db.intern("B_DS"), experts = db.intern("experts"), a2a = db.intern("AlltoAll"),
                     ep = db.intern("EP"), none = db.intern("-"), p = db.intern("dispatch");
  std::vector<EventRow> rows;
  for (int r = 0; r < 2; ++r) {
    rows.push_back({r, 0, s, 0, 0, experts, none, p, -1, -1, 0, -1, 0, 1000});
    rows.push_back({r, 2, s, 0, 0, a2a, ep, p, 0, -1, 1 << 16, 0, 1000 + 100 * r, 3000});
    rows.push_back({r, 0, s, 0, 1, experts, none, p, -1, -1, 0, -1, 3000, 5000});
  }
  db.add_events(run, rows);
  db.set_result(run, parm::to_json(sample_result()).dump());
  db.finish_run(run);
  info.name = "killed";
  db.begin_run(info);
}

void exec(sqlite3* db, const std::string& sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &msg) != SQLITE_OK) qFatal("%s: %s", sql.c_str(), msg);
}

// Minimal nsys layout: two kernels on two streams of device 0.
void build_nsys(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  exec(db, "CREATE TABLE StringIds (id INTEGER NOT NULL PRIMARY KEY, value TEXT NOT NULL)");
  exec(db, "INSERT INTO StringIds VALUES (1, 'k1'), (2, 'k2')");
  exec(db,
       "CREATE TABLE CUPTI_ACTIVITY_KIND_KERNEL (start INTEGER NOT NULL, end INTEGER NOT NULL, deviceId "
       "INTEGER "
       "NOT NULL, contextId INTEGER NOT NULL, streamId INTEGER NOT NULL, correlationId INTEGER, globalPid "
       "INTEGER, demangledName INTEGER NOT NULL, shortName INTEGER NOT NULL)");
  exec(db,
       "INSERT INTO CUPTI_ACTIVITY_KIND_KERNEL VALUES (100, 200, 0, 1, 7, 1, 0, 1, 1), (150, 300, 0, 1, 9, "
       "2, 0, "
       "2, 2)");
  sqlite3_close(db);
}

}  // namespace

class TestCliParmDb : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;
  QString project_;

 private slots:
  void initTestCase() {
    project_ = dir_.filePath("project.parm");
    build_project(project_.toStdString());
  }

  void runsListsCompleteAndIncomplete() {
    const Result text = run_parm({"runs", "--db", project_});
    QCOMPARE(text.exit_code, 0);
    QVERIFY(text.out.contains("sample"));
    QVERIFY(text.out.contains(" complete"));
    QVERIFY(text.out.contains("incomplete"));

    const Result r = run_parm({"runs", "--db", project_, "--json"});
    QCOMPARE(r.exit_code, 0);
    const QJsonArray runs = parm_test::json_object_of(r.out)["runs"].toArray();
    QCOMPARE(runs.size(), 2);
    QCOMPARE(runs[0].toObject()["id"].toInteger(), 1);
    QCOMPARE(runs[0].toObject()["complete"].toBool(), true);
    QCOMPARE(runs[0].toObject()["events"].toInteger(), 6);
    QCOMPARE(runs[0].toObject()["ranks"].toInteger(), 2);
    QCOMPARE(runs[1].toObject()["complete"].toBool(), false);
    QCOMPARE(runs[1].toObject()["events"].toInteger(), 0);
  }

  void showReprintsTheSummary() {
    const Result text = run_parm({"show", "--db", project_, "--run", "1"});
    QCOMPARE(text.exit_code, 0);
    QVERIFY2(text.out.contains("B_DS") && text.out.contains("S1"), text.out.constData());
    // Median [p10-p90] of the slowest rank per iteration: B_DS's layer samples 5, 6, 5 ms, S1's 2, 3, 2.5 ms.
    QVERIFY2(text.out.contains("5.00 [5.00-5.80]") && text.out.contains("2.50 [2.10-2.90]") &&
                 text.out.contains("2.00x"),
             text.out.constData());

    const Result r = run_parm({"show", "--db", project_, "--run", "1", "--json"});
    QCOMPARE(r.exit_code, 0);
    const QJsonArray summary = parm_test::json_object_of(r.out)["summary"].toArray();
    QCOMPARE(summary.size(), 2);
    QCOMPARE(summary[0].toObject()["schedule"].toString(), QString("B_DS"));
    QCOMPARE(summary[0].toObject()["total_ms"].toDouble(), 5.0);
    QCOMPARE(summary[1].toObject()["total_ms"].toDouble(), 2.5);
    const QJsonObject spread = summary[0].toObject()["total_ms_spread"].toObject();
    QCOMPARE(spread["n"].toInt(), 3);
    QVERIFY(std::abs(spread["p90"].toDouble() - 5.8) < 1e-9);
    QCOMPARE(spread["max"].toDouble(), 6.0);
  }

  // --verdict: verdict_summary's one line, and its parts as JSON (S1 2.5 ms against B_DS 5 ms: clear).
  void showVerdictNamesTheMeasuredBest() {
    const Result text = run_parm({"show", "--db", project_, "--run", "1", "--verdict"});
    QCOMPARE(text.exit_code, 0);
    QCOMPARE(text.out.count('\n'), 1);
    QVERIFY2(text.out.startsWith("Measured best S1: ") && text.out.contains("faster than B_DS (p10-p90 "),
             text.out.constData());
    const Result r = run_parm({"show", "--db", project_, "--run", "1", "--verdict", "--json"});
    QCOMPARE(r.exit_code, 0);
    const QJsonObject v = parm_test::json_object_of(r.out);
    QCOMPARE(v["measured_best"].toString(), QString("S1"));
    QCOMPARE(v["tie"].toBool(), false);
    QVERIFY(v["best_speedup_vs_bds"].toObject()["p10"].toDouble() > 1);
    QCOMPARE(v["schedules"].toArray().size(), 2);
    QCOMPARE(v["summary"].toString() + "\n", QString::fromUtf8(text.out));
  }

  void showSaysARunIsIncomplete() {
    const Result r = run_parm({"show", "--db", project_, "--run", "2"});
    QCOMPARE(r.exit_code, 0);
    QVERIFY2(r.out.contains("incomplete"), r.out.constData());
  }

  void missingRunExitsTwo() {
    for (const char* cmd : {"show", "export"}) {
      QStringList args{cmd, "--db", project_, "--run", "99"};
      if (QString(cmd) == "export")
        args << "--format"
             << "csv";
      const Result r = run_parm(args);
      QCOMPARE(r.exit_code, 2);
      QVERIFY2(one_line_naming(r, "no run 99"), r.err.constData());
    }
  }

  void exportPerfettoToFileAndStdout() {
    const QString out = dir_.filePath("trace.json");
    const Result r =
        run_parm({"export", "--db", project_, "--run", "1", "--format", "perfetto", "--out", out});
    QCOMPARE(r.exit_code, 0);
    QFile f(out);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray bytes = f.readAll();
    const QJsonArray events = parm_test::json_object_of(bytes)["traceEvents"].toArray();
    int complete = 0, parents = 0, starts = 0, finishes = 0;
    for (const QJsonValue& v : events) {
      const QString ph = v.toObject()["ph"].toString(), cat = v.toObject()["cat"].toString();
      const bool parent = cat == "schedule" || cat == "iteration";  // the ops' parents, one each per lane
      complete += ph == "X" && !parent;
      parents += ph == "X" && parent;
      starts += ph == "s";
      finishes += ph == "f";
    }
    QCOMPARE(complete, 6);
    QCOMPARE(parents, 2 * 2 * 2);  // 2 ranks x 2 lanes x (schedule + iteration)
    QCOMPARE(starts, 1);
    QCOMPARE(finishes, 1);
    QCOMPARE(QDir(dir_.path()).entryList(QDir::Hidden | QDir::Files).filter(".tmp").size(), 0);

    const Result s = run_parm({"export", "--db", project_, "--run", "1", "--format", "perfetto"});
    QCOMPARE(s.exit_code, 0);
    QCOMPARE(s.out, bytes);
  }

  void exportCsv() {
    const Result r = run_parm({"export", "--db", project_, "--run", "1", "--format", "csv"});
    QCOMPARE(r.exit_code, 0);
    const QList<QByteArray> lines = r.out.trimmed().split('\n');
    QCOMPARE(lines.size(), 7);
    QVERIFY(lines[0].startsWith("run,rank,lane,"));
  }

  // `merge`: the project's runs copied into another that has one of its own; the copy shows and exports as
  // the original; a foreign source is one line, exit 2, and creates no project.
  void mergeCopiesEveryRun() {
    const QString other = dir_.filePath("merged.parm");
    {
      parm::db::Database db = parm::db::Database::open(other.toStdString(), true);
      parm::db::RunInfo info;
      info.name = "theirs";
      info.kind = "measured";
      info.backend = "cpu";
      info.ranks = 1;
      db.finish_run(db.begin_run(info));
    }
    const Result r = run_parm({"merge", project_, "--db", other});
    QCOMPARE(r.exit_code, 0);
    QCOMPARE(r.out, QByteArray("run 1 sample (complete) is run 2\nrun 2 killed (incomplete) is run 3\n"));
    const Result listed = run_parm({"runs", "--db", other, "--json"});
    const QJsonArray runs = parm_test::json_object_of(listed.out)["runs"].toArray();
    QCOMPARE(runs.size(), 3);
    QCOMPARE(runs[1].toObject()["events"].toInteger(), 6);
    QCOMPARE(runs[2].toObject()["complete"].toBool(), false);
    const Result shown = run_parm({"show", "--db", other, "--run", "2"});
    const Result original = run_parm({"show", "--db", project_, "--run", "1"});
    QCOMPARE(shown.exit_code, 0);
    QCOMPARE(QByteArray(shown.out).replace("run 2: ", "run 1: "), original.out);  // all but the run's id
    const Result exported = run_parm({"export", "--db", other, "--run", "2", "--format", "csv"});
    const Result exported_original = run_parm({"export", "--db", project_, "--run", "1", "--format", "csv"});
    QCOMPARE(exported.out.mid(exported.out.indexOf('\n')).replace("\n2,", "\n1,"),
             exported_original.out.mid(exported_original.out.indexOf('\n')));  // the run column aside

    const QString text = dir_.filePath("notes.txt");
    QFile f(text);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("not a project\n");
    f.close();
    const QString fresh = dir_.filePath("never-made.parm");
    const Result bad = run_parm({"merge", text, "--db", fresh});
    QCOMPARE(bad.exit_code, 2);
    QVERIFY2(one_line_naming(bad, "notes.txt"), bad.err.constData());
    QVERIFY(!QFile::exists(fresh));
  }

  // A run with GPU activity: `show` prints its gpu line, `export --format nsys` writes the nsys file (once:
  // an existing output is refused), and `import-nsys` reads it back with the same kernels.
  void gpuRunShowsExportsAndImports() {
    const QString gpu = dir_.filePath("gpu.parm");
    {
      parm::db::Database db = parm::db::Database::open(gpu.toStdString(), true);
      parm::test::store_gpu_run(db);
    }
    const Result show = run_parm({"show", "--db", gpu, "--run", "1"});
    QCOMPARE(show.exit_code, 0);
    QVERIFY2(
        show.out.contains("gpu: 8 kernels, 2 copies, 2 memsets; 3 dropped records; CUPTI on 1 of 2 ranks "
                          "(CUPTI unavailable: CUPTI_ERROR_UNKNOWN)"),
        show.out.constData());
    const Result json = run_parm({"show", "--db", gpu, "--run", "1", "--json"});
    QCOMPARE(json.exit_code, 0);
    const QJsonObject g = parm_test::json_object_of(json.out)["gpu"].toObject();
    QCOMPARE(g["kernels"].toInteger(), 8);
    QCOMPARE(g["dropped_records"].toInteger(), 3);
    QCOMPARE(g["unavailable_ranks"].toInteger(), 1);

    const QString out = dir_.filePath("gpu-nsys.sqlite");
    const Result e = run_parm({"export", "--db", gpu, "--run", "1", "--format", "nsys", "-o", out});
    QCOMPARE(e.exit_code, 0);
    QVERIFY(QFileInfo(out).isFile());
    const Result again = run_parm({"export", "--db", gpu, "--run", "1", "--format", "nsys", "--out", out});
    QCOMPARE(again.exit_code, 2);
    QVERIFY2(one_line_naming(again, "exists"), again.err.constData());
    const Result none = run_parm({"export", "--db", gpu, "--run", "1", "--format", "nsys"});
    QCOMPARE(none.exit_code, 2);
    QVERIFY2(one_line_naming(none, "--out"), none.err.constData());

    const QString imported = dir_.filePath("gpu-imported.parm");
    const Result i = run_parm({"import-nsys", out, "--db", imported});
    QCOMPARE(i.exit_code, 0);
    QCOMPARE(i.out.trimmed(), QByteArray("1"));
    const Result back = run_parm({"show", "--db", imported, "--run", "1"});
    QCOMPARE(back.exit_code, 0);
    QVERIFY2(back.out.contains("2 ranks") && back.out.contains("gpu: 8 kernels, 2 copies, 2 memsets"),
             back.out.constData());
  }

  void badFormatExitsTwo() {
    const Result r = run_parm({"export", "--db", project_, "--run", "1", "--format", "xml"});
    QCOMPARE(r.exit_code, 2);
    QVERIFY2(one_line_naming(r, "xml"), r.err.constData());
  }

  void corruptOrForeignFileExitsTwo() {
    const QString bad = dir_.filePath("garbage.parm");
    QFile f(bad);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(4096, 'z'));
    f.close();
    Result r = run_parm({"runs", "--db", bad});
    QCOMPARE(r.exit_code, 2);
    QVERIFY2(one_line_naming(r, bad), r.err.constData());

    const QString foreign = dir_.filePath("nsys-like.sqlite");
    build_nsys(foreign.toStdString());
    r = run_parm({"show", "--db", foreign, "--run", "1"});
    QCOMPARE(r.exit_code, 2);
    QVERIFY2(one_line_naming(r, "not a Parm Studio database"), r.err.constData());

    r = run_parm({"runs", "--db", dir_.filePath("missing.parm")});
    QCOMPARE(r.exit_code, 2);
    QVERIFY(!QFile::exists(dir_.filePath("missing.parm")));
  }

  void importNsysPrintsTheNewRun() {
    const QString trace = dir_.filePath("job.sqlite");
    build_nsys(trace.toStdString());
    const QString db = dir_.filePath("imports.parm");
    Result r = run_parm({"import-nsys", trace, "--db", db});
    QCOMPARE(r.exit_code, 0);
    QCOMPARE(r.out.trimmed(), QByteArray("1"));
    r = run_parm({"import-nsys", trace, "--db", db});
    QCOMPARE(r.out.trimmed(), QByteArray("2"));

    r = run_parm({"runs", "--db", db, "--json"});
    const QJsonObject first = parm_test::json_object_of(r.out)["runs"].toArray()[0].toObject();
    QCOMPARE(first["kind"].toString(), QString("nsys-import"));
    QCOMPARE(first["events"].toInteger(), 2);
    QVERIFY(first["complete"].toBool());

    // A file without the kernel table is not an nsys export.
    const QString strings_only = dir_.filePath("strings-only.sqlite");
    sqlite3* raw = nullptr;
    sqlite3_open(strings_only.toUtf8().constData(), &raw);
    exec(raw, "CREATE TABLE StringIds (id INTEGER NOT NULL PRIMARY KEY, value TEXT NOT NULL)");
    sqlite3_close(raw);
    r = run_parm({"import-nsys", strings_only, "--db", db});
    QCOMPARE(r.exit_code, 2);
    QVERIFY2(one_line_naming(r, "CUPTI_ACTIVITY_KIND_KERNEL"), r.err.constData());
  }
};

QTEST_GUILESS_MAIN(TestCliParmDb)
#include "test_cli_parm_db.moc"
