// `parm predict`, `parm recommend` and `parm sweep` as users call them, with a calibration file written here
// (no MPI, no ranks: the 32-GPU tc1 layout predicts on this machine).
#include <QElapsedTimer>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>

#include "tests/support/parm_process.h"

namespace {

using Result = parm_test::ProcessResult;

Result run_parm(const QStringList& args) {
  return parm_test::run_parm(args, {.fatal_on_timeout = true});
}

// TC-3 constants (spec section 7) plus compute fits, on a layout of `ranks` GPUs, G per node, N_MP = N_ESP
// = 4.
QString write_calibration(const QTemporaryDir& dir, const QString& name, int ranks, int gpus_per_node) {
  auto fit = [](const char* op, const char* comm, int n, double alpha, double beta) {
    return QJsonObject{{"op", op},       {"communicator", comm}, {"group_size", n},
                       {"alpha", alpha}, {"beta", beta},         {"r2", 1.0}};
  };
  const double a2a = 1e3 / 3e9, intra = 1e3 / 10e9, s = 0.75;
  const QJsonArray fits{fit("alltoall", "EP", ranks / 4, 0.2, a2a),
                        fit("p2p", "EP", ranks / 4, 0.02, a2a),
                        fit("allgather", "MP", 4, 0.03, intra * s),
                        fit("reducescatter", "MP", 4, 0.03, intra * s),
                        fit("allreduce", "MP", 4, 0.05, intra * 2 * s),
                        fit("gemm", "local", 1, 0.01, 1e-9),
                        fit("gate", "local", 1, 0.005, 1e-8)};
  const QJsonObject root{
      {"id", "calib-test-" + name},
      {"layout", QJsonObject{{"ranks", ranks}, {"gpus_per_node", gpus_per_node}, {"mp", 4}, {"esp", 4}}},
      {"dtype", "bf16"},
      {"interference", 1.1},
      {"fits", fits}};
  const QString path = dir.filePath(name + ".json");
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
  f.write(QJsonDocument(root).toJson());
  return path;
}

}  // namespace

class TestCliParmPredict : public QObject {
  Q_OBJECT
 private slots:
  void predictJson() {
    QTemporaryDir dir;
    const QString calib = write_calibration(dir, "tc1", 32, 4);
    const Result r = run_parm({"predict", "resources/presets/tc1.json", "--calibration", calib, "--json"});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    const QJsonObject root = parm_test::json_object_of(r.out);
    const QJsonArray schedules = root["schedules"].toArray();
    QCOMPARE(schedules.size(), 7);
    for (const auto& v : schedules) {
      const QJsonObject o = v.toObject();
      QVERIFY(o["forward_ms"].toDouble() > 0);
      QVERIFY(o["backward_ms"].toDouble() > 0);
      QVERIFY(std::abs(o["total_ms"].toDouble() - o["forward_ms"].toDouble() - o["backward_ms"].toDouble()) <
              1e-9);
      QVERIFY(!o["dominant"].toString().isEmpty());
      if (o["schedule"] == "B_DS") QCOMPARE(o["speedup_vs_B_DS"].toDouble(), 1.0);
      if (o["schedule"] == "S2F") QCOMPARE(std::round(o["forward_comm_ms"].toDouble() * 1000) / 1000, 4.342);
    }
    QVERIFY(!root["chosen"].toString().isEmpty());
    QVERIFY(root["speedup_vs_B_DS"].toDouble() >= 1.0);
  }

  void predictStoresRun() {
    QTemporaryDir dir;
    const QString calib = write_calibration(dir, "tc1", 32, 4);
    const QString db = dir.filePath("p.sqlite");
    const Result r =
        run_parm({"predict", "resources/presets/tc1.json", "--calibration", calib, "--db", db, "--json"});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QVERIFY(parm_test::json_object_of(r.out)["run"].toInteger() > 0);
    const Result runs = run_parm({"runs", "--db", db});
    if (runs.exit_code == 0) QVERIFY2(runs.out.contains("prediction"), runs.out.constData());
  }

  void predictTextTable() {
    QTemporaryDir dir;
    const QString calib = write_calibration(dir, "tc1", 32, 4);
    const Result r = run_parm({"predict", "tc1", "--calibration", calib});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QVERIFY(r.out.contains("chosen:"));
    QVERIFY(r.out.contains("S2F"));
  }

  void mismatchedCalibrationRefused() {
    QTemporaryDir dir;
    const QString calib = write_calibration(dir, "small", 8, 8);  // one node of 8
    const Result r = run_parm({"predict", "resources/presets/tc1.json", "--calibration", calib});
    QCOMPARE(r.exit_code, 2);
    const QList<QByteArray> lines = r.err.trimmed().split('\n');
    QCOMPARE(lines.size(), 1);
    QVERIFY2(r.err.contains("gpus_per_node") || r.err.contains("nodes"), r.err.constData());
    const Result forced =
        run_parm({"predict", "resources/presets/tc1.json", "--calibration", calib, "--force"});
    QCOMPARE(forced.exit_code, 0);
    const Result rec = run_parm({"recommend", "resources/presets/tc1.json", "--calibration", calib});
    QCOMPARE(rec.exit_code, 2);
  }

  void missingFitRefused() {
    QTemporaryDir dir;
    const QString path = dir.filePath("bad.json");
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"({"id": "x", "layout": {"ranks": 32, "gpus_per_node": 4, "mp": 4, "esp": 4}, "fits": []})");
    f.close();
    const Result r = run_parm({"predict", "resources/presets/tc1.json", "--calibration", path});
    QCOMPARE(r.exit_code, 2);
    QVERIFY2(r.err.contains("alltoall"), r.err.constData());
  }

  void recommendJson() {
    QTemporaryDir dir;
    const QString calib = write_calibration(dir, "tc1", 32, 4);
    const QString out = dir.filePath("rec.json");
    const Result r =
        run_parm({"recommend", "resources/presets/tc1.json", "--calibration", calib, "--json", "--out", out});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    const QJsonArray layers = parm_test::json_object_of(r.out)["layers"].toArray();
    QCOMPARE(layers.size(), 1);
    const QJsonObject layer = layers[0].toObject();
    const QString chosen = layer["chosen"].toString();
    QVERIFY(layer["reason"].toString().startsWith(chosen + ":"));
    QCOMPARE(layer["predicted_ms"].toObject().size(), 7);
    QVERIFY(QFile::exists(out));
  }

  void sweepGrid() {
    QTemporaryDir dir;
    const QString calib = write_calibration(dir, "grid", 32, 8);
    const QString csv = dir.filePath("sweep.csv");
    QElapsedTimer timer;
    timer.start();
    const Result r = run_parm(
        {"sweep", "--grid", "resources/grids/paper-grid.json", "--calibration", calib, "--out", csv});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QVERIFY2(timer.elapsed() < 10000, "the grid must take under 10 s");
    QVERIFY2(r.out.contains("1296 configurations"), r.out.constData());
    QVERIFY(r.out.contains("median"));
    QVERIFY(r.out.contains("elapsed"));
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    QCOMPARE(f.readAll().count('\n'), qsizetype(1297) - 0);

    const Result j =
        run_parm({"sweep", "--grid", "resources/grids/paper-grid.json", "--calibration", calib, "--json"});
    QCOMPARE(j.exit_code, 0);
    const QJsonObject root = parm_test::json_object_of(j.out);
    QCOMPARE(root["configurations"].toInt(), 1296);
    int chosen = 0;
    for (const auto& v : root["chosen"].toObject()) chosen += v.toInt();
    QCOMPARE(chosen, root["predicted"].toInt());
    const QJsonObject s = root["speedup_vs_B_DS"].toObject();
    QVERIFY(s["min"].toDouble() <= s["median"].toDouble());
    QVERIFY(s["median"].toDouble() <= s["max"].toDouble());
    QVERIFY(s["min"].toDouble() >= 1.0 - 1e-12);  // B_DS is a candidate: never worse than it
  }
};

QTEST_GUILESS_MAIN(TestCliParmPredict)
#include "test_cli_parm_predict.moc"
