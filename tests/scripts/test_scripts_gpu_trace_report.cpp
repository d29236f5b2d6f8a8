// scripts/gpu-trace-report.py, the device check's verdict on a traced GPU run, over a project written through
// the real writer (tests/db/gpu_run_fixture.h: two ranks, kernels tied to their ops, one kernel outside any
// op, rank 1 with CUPTI unavailable and 3 dropped records): it counts what the fixture stored, says NOT OK
// (exit 1) for the dropped records and the unavailable capture, OK (exit 0) once those are gone, and counts a
// kernel moved outside its op's range.
#include <sqlite3.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/db/gpu_run_fixture.h"
#include "tests/support/parm_process.h"

namespace {

using parm_test::ProcessResult;

ProcessResult report(const QString& project, const QString& json) {
  return parm_test::run_program(
      "python3", {parm_test::source_directory() + "/scripts/gpu-trace-report.py", project, "--json", json},
      {.timeout_ms = 60000});
}

QJsonObject first_run(const QString& json) {
  QFile f(json);
  if (!f.open(QIODevice::ReadOnly)) qFatal("no report JSON");
  return QJsonDocument::fromJson(f.readAll()).object()["runs"].toArray().first().toObject();
}

void execute(const QString& project, const char* sql) {
  sqlite3* db = nullptr;
  QCOMPARE(sqlite3_open(project.toUtf8().constData(), &db), SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &error);
  QVERIFY2(rc == SQLITE_OK, error ? error : "?");
  sqlite3_close(db);
}

}  // namespace

class TestScriptsGpuTraceReport : public QObject {
  Q_OBJECT

 private slots:
  void judgesAStoredCapture() {
    QTemporaryDir dir;
    const QString project = dir.filePath("gpu.sqlite"), json = dir.filePath("report.json");
    {
      parm::db::Database db = parm::db::Database::open(project.toStdString(), true);
      parm::test::store_gpu_run(db);
    }
    ProcessResult r = report(project, json);
    QVERIFY2(r.exit_code == 1, (r.out + r.err).constData());
    QVERIFY2(r.out.contains("NOT OK") && r.out.contains("CUPTI unavailable"), r.out.constData());
    QJsonObject run = first_run(json);
    QCOMPARE(run["kernels"].toInt(), 8);
    QCOMPARE(run["kernels_without_op"].toInt(), 2);
    QCOMPARE(run["dropped_records"].toInt(), 3);
    QCOMPARE(run["ops_without_activity"].toInt(), 0);
    QCOMPARE(run["kernels_outside_op_range"].toInt(), 0);
    QCOMPARE(run["per_op"].toObject()["parm experts fwd"].toObject()["kernels_per_occurrence"].toDouble(),
             2.0);

    // A clean capture passes.
    execute(project, "UPDATE gpu_captures SET status = '', dropped_records = 0");
    r = report(project, json);
    QVERIFY2(r.exit_code == 0, (r.out + r.err).constData());
    QVERIFY(first_run(json)["ok"].toBool());

    // A kernel 1 ms before its op's start is outside its range (tolerance 5 us).
    execute(
        project,
        "UPDATE CUPTI_ACTIVITY_KIND_KERNEL SET start = start - 1000000 WHERE rowid = (SELECT min(rowid) FROM "
        "CUPTI_ACTIVITY_KIND_KERNEL WHERE event IS NOT NULL)");
    r = report(project, json);
    QVERIFY2(r.exit_code == 1, (r.out + r.err).constData());
    QCOMPARE(first_run(json)["kernels_outside_op_range"].toInt(), 1);
  }

  void refusesWhatIsNotAProject() {
    QTemporaryDir dir;
    QFile text(dir.filePath("notes.sqlite"));
    QVERIFY(text.open(QIODevice::WriteOnly));
    text.write("not a database\n");
    text.close();
    const ProcessResult r = report(text.fileName(), dir.filePath("r.json"));
    QCOMPARE(r.exit_code, 2);
    QVERIFY2(r.err.contains("gpu-trace-report: ") && r.err.count('\n') == 1, r.err.constData());
  }
};

QTEST_GUILESS_MAIN(TestScriptsGpuTraceReport)
#include "test_scripts_gpu_trace_report.moc"
