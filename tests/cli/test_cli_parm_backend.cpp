// `--backend cpu|cuda|cuda+mpi` on run, validate, calibrate and check (issue 14): it overrides run.backend;
// a backend this build or machine lacks is refused with exactly one stderr line naming it and the reason,
// never a CPU run under a cuda label; a cpu run prints and stores the device of every rank; `parm check`
// prints a GPU rank's device memory estimate.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include "db/database.h"
#include "tests/support/parm_process.h"

namespace {

using Result = parm_test::ProcessResult;

Result run_parm(const QStringList& args, int timeout_ms = 120000) {
  return parm_test::run_parm(args, {.timeout_ms = timeout_ms});
}

// A tiny layer on 2 ranks (mp = esp = `mp`, nodes of `mp` ranks), written with `backend` as run.backend.
QString write_tiny(const QTemporaryDir& dir, const char* backend, int mp = 2) {
  const QString path = dir.filePath(QString("tiny-%1-mp%2.json").arg(backend).arg(mp).replace('+', '_'));
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
  f.write(QString(R"({"name": "tiny",
    "layer": {"batch": 2, "seq_len": 8, "hidden": 8, "ffn_hidden": 16, "num_experts": 4, "top_k": 2},
    "parallel": {"ranks": 2, "gpus_per_node": %2, "mp": %2, "esp": %2},
    "run": {"warmup": 1, "iterations": 2, "schedules": ["B_DS", "S2"], "backend": "%1"}})")
              .arg(backend)
              .arg(mp)
              .toUtf8());
  return path;
}

QList<QByteArray> lines_of(const QByteArray& text) {
  QList<QByteArray> out;
  for (const QByteArray& line : text.split('\n'))
    if (!line.trimmed().isEmpty()) out.push_back(line);
  return out;
}

// Exit 2, nothing on stdout, one stderr line naming the backend and why it cannot run here.
void expect_one_line_refusal(const Result& r, const QByteArray& prefix, const QByteArray& backend) {
  QVERIFY2(r.exit_code == 2, qPrintable(QString("exit %1: %2").arg(r.exit_code).arg(QString(r.err))));
  QVERIFY2(r.out.isEmpty(), r.out.constData());  // nothing ran, nothing was reported as run
  const QList<QByteArray> lines = lines_of(r.err);
  QVERIFY2(lines.size() == 1, r.err.constData());
  const QByteArray& line = lines.front();
  QVERIFY2(line.startsWith(prefix + "backend " + backend + ": "), line.constData());
  // This machine: a CUDA build without a device answering, or a build without CUDA.
  QVERIFY2(line.contains("no CUDA device answers") || line.contains("this build has no CUDA support") ||
               line.contains("no CUDA layer engine"),
           line.constData());
  QVERIFY2(line.endsWith("; use backend cpu"), line.constData());
}

}  // namespace

class TestCliParmBackend : public QObject {
  Q_OBJECT
 private slots:
  void runRefusesACudaBackend_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QByteArray>("backend");
    QTest::newRow("run --backend cuda") << QStringList{"run", "--backend", "cuda"} << QByteArray("cuda");
    // A layout one rank can run (mp 1): never the cpu reference layer under a cuda label.
    QTest::newRow("run --backend cuda --ranks 1")
        << QStringList{"run", "ONE_RANK", "--backend", "cuda", "--ranks", "1"} << QByteArray("cuda");
    QTest::newRow("run --backend cuda --ranks 1 --verify")
        << QStringList{"run", "ONE_RANK", "--backend", "cuda", "--ranks", "1", "--verify"}
        << QByteArray("cuda");
    // The default preset's layout (mp 2) cannot hold one rank: the missing backend is still the one line.
    QTest::newRow("run default --backend cuda --ranks 1")
        << QStringList{"run", "--backend", "cuda", "--ranks", "1"} << QByteArray("cuda");
    QTest::newRow("run --backend cuda+mpi --ranks 4 --verify")
        << QStringList{"run", "--backend", "cuda+mpi", "--ranks", "4", "--verify"} << QByteArray("cuda+mpi");
    QTest::newRow("run --backend cuda --dry-run")
        << QStringList{"run", "tc1", "--backend", "cuda", "--dry-run"} << QByteArray("cuda");
  }

  void runRefusesACudaBackend() {
    QFETCH(QStringList, args);
    QFETCH(QByteArray, backend);
    QTemporaryDir dir;
    args.replaceInStrings("ONE_RANK", write_tiny(dir, "cpu", 1));
    const Result r = run_parm(args, 60000);
    expect_one_line_refusal(r, "parm run: ", backend);
    QVERIFY2(r.elapsed_ms < 10000, qPrintable(QString::number(r.elapsed_ms)));  // refused before mpirun
  }

  void validateAndCalibrateRefuseACudaBackend() {
    QTemporaryDir dir;
    const QString cpu = write_tiny(dir, "cpu");
    expect_one_line_refusal(
        run_parm({"validate", cpu, "--backend", "cuda", "--calibration", dir.filePath("none.json")}, 60000),
        "parm validate: ", "cuda");
    expect_one_line_refusal(run_parm({"calibrate", cpu, "--backend", "cuda+mpi", "--quick"}, 60000),
                            "parm calibrate: ", "cuda+mpi");
  }

  void unknownBackendIsAnArgumentError() {
    for (const char* command : {"run", "check", "validate", "calibrate"}) {
      const Result r = run_parm({command, "--backend", "tpu"});
      QCOMPARE(r.exit_code, 2);
      const QList<QByteArray> lines = lines_of(r.err);
      QVERIFY2(lines.size() == 1, r.err.constData());
      QVERIFY2(lines.front().contains("--backend") &&
                   lines.front().contains("must be one of cpu, cuda, cuda+mpi, got tpu"),
               lines.front().constData());
    }
  }

  // --backend cpu overrides a cuda configuration; the run prints and stores the device of every rank.
  void cpuOverrideRunsAndStoresTheDevices() {
    QTemporaryDir dir;
    const QString cuda = write_tiny(dir, "cuda");
    const QString db_path = dir.filePath("project.sqlite");
    const Result text = run_parm({"run", cuda, "--backend", "cpu"});
    const QByteArray out = parm_test::output_of_success(text);
    QVERIFY2(out.contains("backend cpu"), out.constData());
    QVERIFY2(out.contains("\ndevices: rank 0-1: cpu\n"), out.constData());

    const Result json = run_parm({"run", cuda, "--backend", "cpu", "--json", "--db", db_path});
    const QJsonObject o = parm_test::json_object_of(parm_test::output_of_success(json));
    QCOMPARE(o["backend"].toString(), QString("cpu"));
    QCOMPARE(o["devices"].toArray(), QJsonArray{"rank 0-1: cpu"});
    const QJsonArray ranks = o["raw"].toObject()["ranks"].toArray();
    QCOMPARE(ranks.size(), 2);
    for (const QJsonValue& rank : ranks) {
      const QJsonObject device = rank.toObject()["device"].toObject();
      QCOMPARE(device["name"].toString(), QString("cpu"));
      QCOMPARE(device["ordinal"].toInt(), -1);
      QVERIFY(device["peak_bytes"].toDouble() > 0);  // the cpu allocator counts its buffers
      QVERIFY(device["allocations"].toDouble() >= 0);
    }

    const parm::db::Database db = parm::db::Database::open(db_path.toStdString(), false);
    const auto runs = db.runs();
    QCOMPARE(runs.size(), std::size_t{1});
    const auto rows = db.ranks(runs.front().id);
    QCOMPARE(rows.size(), std::size_t{2});
    for (const parm::db::RankInfo& r : rows) {
      QCOMPARE(r.device, std::string("cpu"));
      QCOMPARE(r.device_ordinal, -1);
      QCOMPARE(r.device_memory_bytes, std::int64_t{0});
      QVERIFY(r.peak_device_bytes > 0);
      QCOMPARE(
          r.peak_device_bytes,
          static_cast<std::int64_t>(ranks[r.rank].toObject()["device"].toObject()["peak_bytes"].toDouble()));
    }
  }

  // Without a device the estimate is printed (and compared with nothing); the cpu backend has none.
  void checkPrintsTheDeviceEstimate() {
    QTemporaryDir dir;
    const QString cpu = write_tiny(dir, "cpu");
    const Result plain = run_parm({"check", cpu, "--json"});
    QVERIFY(!parm_test::json_object_of(parm_test::output_of_success(plain)).contains("device_memory"));

    const Result r = run_parm({"check", cpu, "--backend", "cuda+mpi", "--json"});
    const QJsonObject o = parm_test::json_object_of(parm_test::output_of_success(r));
    QCOMPARE(o["config"].toObject()["run"].toObject()["backend"].toString(), QString("cuda+mpi"));
    const QJsonObject m = o["device_memory"].toObject();
    const double parts = m["buffers_bytes"].toDouble() + m["saved_for_backward_bytes"].toDouble() +
                         m["pass_buffers_bytes"].toDouble() + m["cublas_workspace_bytes"].toDouble() +
                         m["context_bytes"].toDouble();
    QCOMPARE(m["total_bytes"].toDouble(), parts);
    QCOMPARE(m["buffers_bytes"].toDouble(), o["rank_memory"].toObject()["total_bytes"].toDouble());
    QVERIFY(m["host_staging_bytes"].toDouble() > 0);  // cuda+mpi stages through pinned host memory
    if (m["device"].isNull()) QVERIFY2(r.err.contains("warning: run.backend cuda+mpi:"), r.err.constData());

    const Result text = run_parm({"check", cpu, "--backend", "cuda"});
    const QByteArray out = parm_test::output_of_success(text);
    QVERIFY2(out.contains("bytes of one GPU rank's device memory"), out.constData());
    QVERIFY2(!out.contains("pinned host staging"), out.constData());  // NCCL reads device buffers
  }
};

QTEST_GUILESS_MAIN(TestCliParmBackend)
#include "test_cli_parm_backend.moc"
