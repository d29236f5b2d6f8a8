// `parm predict`, `parm recommend` and `parm sweep` as users call them, with a calibration file written here
// (no MPI, no ranks: the 32-GPU tc1 layout predicts on this machine), and the worked cases TC-3..TC-5 of spec
// section 7 through the CLI with their communication constants and zero compute.
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

// The worked cases' communication constants with no compute fit (compute time 0) and no interference, on a
// layout of `ranks` GPUs, G per node, N_MP = N_ESP = 4. TC-4 (`tc4`) has its own alphas and one beta.
QString write_communication_calibration(const QTemporaryDir& dir, const QString& name, int ranks,
                                        int gpus_per_node, bool tc4) {
  auto fit = [](const char* op, const char* comm, int n, double alpha, double beta) {
    return QJsonObject{{"op", op},       {"communicator", comm}, {"group_size", n},
                       {"alpha", alpha}, {"beta", beta},         {"r2", 1.0}};
  };
  const double a2a = tc4 ? 1e3 / 10e9 : 1e3 / 3e9, intra = 1e3 / 10e9, s = 0.75;
  const QJsonArray fits{
      fit("alltoall", "EP", ranks / 4, tc4 ? 0.03 : 0.2, a2a),
      fit("p2p", "EP", ranks / 4, tc4 ? 0.01 : 0.02, a2a), fit("allgather", "MP", 4, 0.03, intra * s),
      fit("reducescatter", "MP", 4, 0.03, intra * s), fit("allreduce", "MP", 4, 0.05, intra * 2 * s)};
  const QJsonObject root{
      {"id", "calib-comm-" + name},
      {"layout", QJsonObject{{"ranks", ranks}, {"gpus_per_node", gpus_per_node}, {"mp", 4}, {"esp", 4}}},
      {"dtype", "bf16"},
      {"interference", 1.0},
      {"fits", fits}};
  const QString path = dir.filePath(name + "-calibration.json");
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
  f.write(QJsonDocument(root).toJson());
  return path;
}

// The tc1 preset with `layer` and `parallel` fields replaced (TC-4, TC-5 of spec section 7).
QString write_config(const QTemporaryDir& dir, const QString& name, const QJsonObject& layer,
                     const QJsonObject& parallel) {
  QFile preset(parm_test::source_directory() + "/resources/presets/tc1.json");
  if (!preset.open(QIODevice::ReadOnly)) qFatal("cannot read the tc1 preset");
  QJsonObject root = QJsonDocument::fromJson(preset.readAll()).object();
  root["name"] = name;
  QJsonObject l = root["layer"].toObject();
  for (auto it = layer.begin(); it != layer.end(); ++it) l[it.key()] = it.value();
  root["layer"] = l;
  QJsonObject p = root["parallel"].toObject();
  for (auto it = parallel.begin(); it != parallel.end(); ++it) p[it.key()] = it.value();
  root["parallel"] = p;
  const QString path = dir.filePath(name + ".json");
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
  f.write(QJsonDocument(root).toJson());
  return path;
}

// `parm predict --json` of `config` with `calibration`: schedule name -> its object, plus the choice.
struct Predicted {
  QMap<QString, QJsonObject> schedules;
  QString chosen;
};
Predicted predict(const QString& config, const QString& calibration) {
  const Result r = run_parm({"predict", config, "--calibration", calibration, "--json"});
  if (r.exit_code != 0) qFatal("parm predict failed: %s", r.err.constData());
  const QJsonObject root = parm_test::json_object_of(r.out);
  Predicted p;
  for (const auto& v : root["schedules"].toArray())
    p.schedules[v.toObject()["schedule"].toString()] = v.toObject();
  p.chosen = root["chosen"].toString();
  return p;
}

double ms3(double ms) {
  return std::round(ms * 1000) / 1000;
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
      if (o["schedule"] == "S2F") QCOMPARE(std::round(o["forward_comm_ms"].toDouble() * 1000) / 1000, 5.799);
    }
    QVERIFY(!root["chosen"].toString().isEmpty());
    QVERIFY(root["speedup_vs_B_DS"].toDouble() >= 1.0);
  }

  // TC-3 through the CLI, zero compute: S2F's forward communication is the corrected closed form and its
  // simulated forward (the executor's issue order on FIFO lanes) is within 5% of it.
  void tc3S2fForward() {
    QTemporaryDir dir;
    const Predicted p =
        predict("resources/presets/tc1.json", write_communication_calibration(dir, "tc3", 32, 4, false));
    const QJsonObject s2f = p.schedules["S2F"];
    QCOMPARE(ms3(s2f["forward_comm_ms"].toDouble()), 5.799);
    QCOMPARE(s2f["forward_compute_ms"].toDouble(), 0.0);
    const double forward = s2f["forward_ms"].toDouble();
    QVERIFY2(std::abs(forward - 5.799) <= 0.05 * 5.799, qPrintable(QString("forward %1 ms").arg(forward)));
  }

  void tc3ChoosesS1f() {
    QTemporaryDir dir;
    const Predicted p =
        predict("resources/presets/tc1.json", write_communication_calibration(dir, "tc3", 32, 4, false));
    const QMap<QString, double> spec{{"B_DS", 16.894}, {"B0", 25.966}, {"S1", 7.511},
                                     {"S1F", 4.782},   {"S2", 8.396},  {"S2F", 5.799}};
    for (auto it = spec.begin(); it != spec.end(); ++it)
      QCOMPARE(ms3(p.schedules[it.key()]["forward_comm_ms"].toDouble()), it.value());
    QCOMPARE(p.chosen, QString("S1F"));
  }

  // TC-4: one node of 8 (shared links), N_EP = 2: the unfused S1.
  void tc4ChoosesS1() {
    QTemporaryDir dir;
    const QString config = write_config(dir, "tc4", {{"seq_len", 512}, {"num_experts", 4}},
                                        {{"ranks", 8}, {"gpus_per_node", 8}});
    const Predicted p = predict(config, write_communication_calibration(dir, "tc4", 8, 8, true));
    const QMap<QString, double> spec{{"B_DS", 3.634}, {"B0", 8.174}, {"S1", 2.483},
                                     {"S1F", 2.523},  {"S2", 2.925}, {"S2F", 2.995}};
    for (auto it = spec.begin(); it != spec.end(); ++it)
      QCOMPARE(ms3(p.schedules[it.key()]["forward_comm_ms"].toDouble()), it.value());
    QCOMPARE(p.chosen, QString("S1"));
  }

  // TC-5: a small layer where the fused variants lose to their W latency terms. Over the spec's quantity,
  // forward communication, S1 and S2 tie below every other schedule and the tie goes to S1. `parm predict`'s
  // own choice is over the whole layer (forward + backward), where S1 also pays its router-gradient
  // MP-AllReduce (M*E elements, 0.0512 ms): S2 is ahead by exactly that.
  void tc5ForwardCommChoosesS1() {
    QTemporaryDir dir;
    const QString config = write_config(dir, "tc5",
                                        {{"batch", 1},
                                         {"seq_len", 128},
                                         {"hidden", 512},
                                         {"top_k", 1},
                                         {"capacity_factor", 1.0},
                                         {"min_capacity", 1}},
                                        {});
    const Predicted p = predict(config, write_communication_calibration(dir, "tc5", 32, 4, false));
    const QMap<QString, double> spec{{"S1", 0.541}, {"S2", 0.541}, {"S1F", 0.582}, {"S2F", 0.792}};
    for (auto it = spec.begin(); it != spec.end(); ++it)
      QCOMPARE(ms3(p.schedules[it.key()]["forward_comm_ms"].toDouble()), it.value());
    const double s1 = p.schedules["S1"]["forward_comm_ms"].toDouble();
    QVERIFY(std::abs(s1 - p.schedules["S2"]["forward_comm_ms"].toDouble()) <= 1e-6 * s1);  // a tie
    for (auto it = p.schedules.begin(); it != p.schedules.end(); ++it)
      if (it.key() != "S1" && it.key() != "S2")
        QVERIFY2(it.value()["forward_comm_ms"].toDouble() > s1 * (1 + 1e-6), qPrintable(it.key()));
    // The tie rule (unfused first, then S1 before S2) picks S1 over forward communication.
    const double router_grad = 0.05 + 1e3 / 10e9 * 2 * 0.75 * (512 * 8 * 2);
    const double lead = p.schedules["S1"]["total_ms"].toDouble() - p.schedules["S2"]["total_ms"].toDouble();
    QVERIFY2(std::abs(lead - router_grad) < 1e-9, qPrintable(QString("S1 - S2 layer: %1 ms").arg(lead)));
    QCOMPARE(p.chosen, QString("S2"));
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

  // --degrees 1,4 selects over every forward x backward pair: S1f4b1 is S1r4's forward and S1's backward
  // after the regroup of the saved activations; --same-degrees keeps equal pairs only.
  void degreePairs() {
    QTemporaryDir dir;
    const QString calib = write_calibration(dir, "tc1", 32, 4);
    const auto schedules = [&](const QStringList& extra) {
      const Result r = run_parm(QStringList{"predict", "resources/presets/tc1.json", "--calibration", calib,
                                            "--json", "--degrees", "1,4"} +
                                extra);
      if (r.exit_code != 0) qFatal("parm predict failed: %s", r.err.constData());
      QMap<QString, QJsonObject> out;
      for (const auto& v : parm_test::json_object_of(r.out)["schedules"].toArray())
        out[v.toObject()["schedule"].toString()] = v.toObject();
      return out;
    };
    const auto pairs = schedules({});
    QCOMPARE(pairs.size(), 28);
    const QJsonObject mixed = pairs["S1f4b1"], r4 = pairs["S1r4"], r1 = pairs["S1"];
    QCOMPARE(mixed["forward_ms"].toDouble(), r4["forward_ms"].toDouble());
    QVERIFY(mixed["backward_ms"].toDouble() >= r1["backward_ms"].toDouble());
    QVERIFY(pairs.contains("S2Ff1b4"));
    const auto same = schedules({"--same-degrees"});
    QCOMPARE(same.size(), 14);
    QVERIFY(!same.contains("S1f4b1") && same.contains("S1r4"));
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
