// scripts/device-check.sh and scripts/device-deps.sh as far as a machine without a GPU can check them: both
// parse (bash -n); the dry mode lists every step of the device run with its timeout, writes the log and a
// summary JSON of the documented shape, and keeps its timeouts within the 8-minute budget; the fallback for
// missing packages is decided per group; device-deps.sh's dry mode names every package group.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/support/parm_process.h"

namespace {

using parm_test::ProcessResult;

QString script(const char* name) {
  return parm_test::source_directory() + "/scripts/" + name;
}

ProcessResult dry_check(const QTemporaryDir& out, const QString& assume_missing = {}) {
  return parm_test::run_program("bash", {script("device-check.sh")},
                                {.timeout_ms = 60000,
                                 .environment = {{"DEVICE_CHECK_DRY", "1"},
                                                 {"OUT", out.path()},
                                                 {"DEVICE_CHECK_WORK", out.filePath("work")},
                                                 {"DEVICE_CHECK_ASSUME_MISSING", assume_missing}}});
}

QJsonObject summary_of(const QTemporaryDir& out) {
  QFile f(out.filePath("device-check.json"));
  if (!f.open(QIODevice::ReadOnly)) qFatal("no device-check.json");
  return parm_test::json_object_of(f.readAll());
}

}  // namespace

class TestScriptsDeviceCheck : public QObject {
  Q_OBJECT
 private slots:
  void scriptsParse() {
    for (const char* name : {"device-check.sh", "device-deps.sh"}) {
      const ProcessResult r = parm_test::run_program("bash", {"-n", script(name)});
      QVERIFY2(r.exit_code == 0, r.err.constData());
    }
    const ProcessResult py = parm_test::run_program(
        "python3",
        {"-c", "import ast,sys; ast.parse(open(sys.argv[1]).read())", script("gpu-trace-report.py")});
    QVERIFY2(py.exit_code == 0, py.err.constData());
  }

  void dryRunListsEveryStep() {
    QTemporaryDir out;
    const ProcessResult r = dry_check(out);
    QVERIFY2(r.exit_code == 0, (r.out + r.err).constData());
    QVERIFY2(r.out.contains("DRY RUN"), r.out.constData());
    const QJsonObject summary = summary_of(out);
    QCOMPARE(summary["dry"].toBool(), true);
    const QJsonObject steps = summary["steps"].toObject();
    QStringList expected{
        "deps",           "machine",           "configure",          "build",
        "gpu_tests",      "bench_experts",     "trace_cuda_np1",     "trace_cuda_mpi_np4",
        "trace_report",   "bench_tracing",     "calibrate_cuda_np1", "calibrate_cuda_mpi_np4",
        "model_cuda_np1", "model_cuda_mpi_np2", "hierarchical_cuda_mpi_np4"};
    for (const char* preset : {"default", "tc1", "bert-base-moe", "gpt2-moe"})
      for (const char* dtype : {"fp32", "bf16"}) {
        expected << QString("run_cuda_np1_%1_%2").arg(preset, dtype);
        expected << QString("run_cuda_mpi_np4_%1_%2").arg(preset, dtype);
      }
    for (const QString& name : expected) {
      QVERIFY2(steps.contains(name), qPrintable(name));
      QCOMPARE(steps[name].toObject()["status"].toString(), QString("dry"));
    }
    QCOMPARE(steps.size(), expected.size());
    // The runs are the ones the issue names, on the device build's parm.
    QVERIFY2(r.out.contains("run /tmp/") || r.out.contains(" run "), r.out.constData());
    QVERIFY2(r.out.contains("--backend cuda --ranks 1 --verify"), r.out.constData());
    // Whole models (issue 18): a training step per schedule on each cuda backend.
    QVERIFY2(r.out.contains("--model --backend cuda+mpi --ranks 2"), r.out.constData());
    QVERIFY2(r.out.contains("--backend cuda+mpi --ranks 4 --verify"), r.out.constData());
    QVERIFY2(r.out.contains("-DPARM_WITH_GUI=OFF") && r.out.contains("-DCMAKE_DISABLE_FIND_PACKAGE_Qt6=ON"),
             r.out.constData());
    QVERIFY2(r.out.contains("ctest --test-dir") && r.out.contains("-L gpu"), r.out.constData());
    // Issue 15: traced runs into one project, the capture report over it, the overhead and a GPU calibration.
    QVERIFY2(r.out.contains("--backend cuda --ranks 1 --db ") &&
                 r.out.contains("--backend cuda+mpi --ranks 4 --db "),
             r.out.constData());
    QVERIFY2(r.out.contains("gpu-trace-report.py") && r.out.contains("parm_bench_tracing --backend cuda"),
             r.out.constData());
    QVERIFY2(r.out.contains("calibrate") && r.out.contains("--backend cuda+mpi --ranks 4 --quick"),
             r.out.constData());
    // Every step is bounded; a dry run does not spend the budget.
    for (const QString& name : expected)
      if (name != "deps") QVERIFY2(steps[name].toObject()["timeout_s"].toInt() > 0, qPrintable(name));
    QVERIFY(summary["seconds"].toInt() < 30);
    // The log holds what stdout showed.
    QFile log(out.filePath("device-check.log"));
    QVERIFY(log.open(QIODevice::ReadOnly));
    QVERIFY(log.readAll().contains("== configure"));
  }

  // Groups the machine lacks are unpacked from .device-deps and CMake is pointed at them; others are not.
  void missingGroupsArePointedAt() {
    QTemporaryDir out;
    const ProcessResult r = dry_check(out, "blas mpi");
    QVERIFY2(r.exit_code == 0, (r.out + r.err).constData());
    const QJsonArray missing = summary_of(out)["steps"].toObject()["deps"].toObject()["missing"].toArray();
    QVERIFY(missing.contains(QJsonValue("blas")) && missing.contains(QJsonValue("mpi")));
    QVERIFY2(r.out.contains("-DBLA_VENDOR=OpenBLAS"), r.out.constData());
    QVERIFY2(r.out.contains("-DMPI_CXX_COMPILER=/tmp/parm-device-deps/usr/bin/mpicxx"), r.out.constData());
    QVERIFY2(!r.out.contains("-DSQLite3_LIBRARY"), r.out.constData());  // this machine has SQLite
    QVERIFY2(r.out.contains("blas: would unpack") || r.out.contains("blas: missing here and no .deb"),
             r.out.constData());
  }

  void depsDryRunNamesEveryGroup() {
    const ProcessResult r = parm_test::run_program("bash", {script("device-deps.sh")},
                                                   {.environment = {{"DEVICE_DEPS_DRY", "1"}}});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    for (const char* needle : {".device-deps/blas && apt-get download libopenblas-dev",
                               "libopenblas0-pthread", "nlohmann-json3-dev", "libcli11-dev", "libsqlite3-dev",
                               ".device-deps/mpi && apt-get download libopenmpi-dev", "openmpi-bin"})
      QVERIFY2(r.out.contains(needle), needle);
  }
};

QTEST_GUILESS_MAIN(TestScriptsDeviceCheck)
#include "test_scripts_device_check.moc"
