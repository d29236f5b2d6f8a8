// Hostile inputs, class "run.backend is honoured": a cuda or cuda+mpi configuration never runs the CPU engine
// under a cuda label. This build has no CUDA layer engine yet (and this machine may have no device), so every
// command that would run a layer exits 2 naming the backend and what to use instead; `parm check` accepts the
// configuration with a warning; a CPU run prints and stores backend cpu.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>

#include "hostile_support.h"

namespace {

QByteArray config_for(const char* backend, int ranks) {
  return QByteArray("{\"name\": \"hostile-backend\", \"parallel\": {\"ranks\": ") +
         QByteArray::number(ranks) + ", \"gpus_per_node\": " + QByteArray::number(ranks) +
         ", \"mp\": " + QByteArray::number(ranks) + ", \"esp\": " + QByteArray::number(ranks) +
         "}, \"run\": {\"iterations\": 1, \"warmup\": 0, " + "\"schedules\": [\"B_DS\"], \"backend\": \"" +
         backend + "\"}}";
}

}  // namespace

class TestHostileBackend : public QObject {
  Q_OBJECT
 private slots:
  void cudaIsRefused_data() {
    QTest::addColumn<QString>("backend");
    QTest::addColumn<QStringList>("args");  // CONFIG stands for the configuration file
    for (const char* backend : {"cuda", "cuda+mpi"}) {
      const QString b = backend;
      QTest::newRow(qPrintable(b + ": run, 2 ranks")) << b << QStringList{"run", "CONFIG", "--ranks", "2"};
      QTest::newRow(qPrintable(b + ": run --dry-run")) << b << QStringList{"run", "CONFIG", "--dry-run"};
      QTest::newRow(qPrintable(b + ": run, 1 rank (reference)"))
          << b << QStringList{"run", "CONFIG", "--ranks", "1"};
      QTest::newRow(qPrintable(b + ": validate"))
          << b << QStringList{"validate", "CONFIG", "--ranks", "2", "--calibration", "none.json"};
      QTest::newRow(qPrintable(b + ": calibrate"))
          << b << QStringList{"calibrate", "CONFIG", "--ranks", "2", "--quick"};
    }
  }

  void cudaIsRefused() {
    QFETCH(QString, backend);
    QFETCH(QStringList, args);
    QTemporaryDir dir;
    const QString config =
        hostile::write_file(QDir(dir.path()), "cuda.json", config_for(backend.toUtf8().constData(), 2));
    args.replaceInStrings("CONFIG", config);
    const hostile::Result r = hostile::run_parm(args, 60000);
    hostile::expect_refused(r, 2, "backend " + backend.toUtf8());
    // What is missing and what to use instead, on the same line; and nothing ran.
    QVERIFY2(r.err.contains("use backend cpu"), r.err.constData());
    QVERIFY2(!r.err.contains("starting"), r.err.constData());
    QVERIFY2(r.out.isEmpty(), r.out.constData());
  }

  // A rank started by hand (srun) refuses too, before any layer runs.
  void workerRefusesCuda() {
    QTemporaryDir dir;
    const QString config = hostile::write_file(QDir(dir.path()), "cuda.json", config_for("cuda", 1));
    const hostile::Result r =
        hostile::run_parm({"worker", "--config", config, "--result", dir.filePath("result.json")}, 60000);
    hostile::expect_refused(r, 2, "backend cuda");
    QVERIFY(!QFile::exists(dir.filePath("result.json")));
  }

  // A valid configuration: `parm check` accepts it, saying it cannot run here.
  void checkWarns() {
    QTemporaryDir dir;
    const QString config = hostile::write_file(QDir(dir.path()), "cuda.json", config_for("cuda", 2));
    const hostile::Result r = hostile::run_parm({"check", config});
    QCOMPARE(r.exit_code, 0);
    QVERIFY2(r.err.contains("warning: run.backend cuda:") && r.err.contains("use backend cpu"),
             r.err.constData());
  }

  // The backend printed and stored is the one that ran.
  void cpuRunSaysCpu() {
    QTemporaryDir dir;
    const QString config = hostile::write_file(QDir(dir.path()), "cpu.json", config_for("cpu", 2));
    const QString db = dir.filePath("project.sqlite");
    const hostile::Result r = hostile::run_parm({"run", config, "--json", "--db", db}, 120000);
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QCOMPARE(QJsonDocument::fromJson(r.out).object()["backend"].toString(), QString("cpu"));
    const hostile::Result runs = hostile::run_parm({"runs", "--db", db, "--json"});
    QVERIFY2(runs.exit_code == 0, runs.err.constData());
    const QJsonArray rows = QJsonDocument::fromJson(runs.out).object()["runs"].toArray();
    QCOMPARE(rows.size(), 1);
    QCOMPARE(rows[0].toObject()["backend"].toString(), QString("cpu"));
    QVERIFY(rows[0].toObject()["complete"].toBool());
  }
};

QTEST_GUILESS_MAIN(TestHostileBackend)
#include "test_hostile_backend.moc"
