// The `parm` executable as users call it: exit codes, one-line errors, JSON output.
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

qint64 bytes_of(const QJsonObject& root, const char* schedule, const char* collective, const char* purpose) {
  for (const auto& v : root["collectives"].toObject()[schedule].toArray()) {
    const QJsonObject o = v.toObject();
    if (o["collective"].toString() == collective && o["purpose"].toString() == purpose && o["pass"] == "fwd")
      return o["bytes"].toInteger();
  }
  return -1;
}

}  // namespace

class TestCliParm : public QObject {
  Q_OBJECT
 private slots:
  void checkTc1Json() {
    const Result r = run_parm({"check", "resources/presets/tc1.json", "--json"});
    QCOMPARE(r.exit_code, 0);
    const QJsonObject root = parm_test::json_object_of(r.out);
    const QJsonObject sizes = root["sizes"].toObject();
    QCOMPARE(sizes["C0"].toInteger(), 1229);
    QCOMPARE(sizes["C1"].toInteger(), 308);
    QCOMPARE(sizes["C2"].toInteger(), 1232);
    QCOMPARE(sizes["D0"].toInteger(), 10067968);
    QCOMPARE(sizes["D1"].toInteger(), 2523136);
    QCOMPARE(sizes["D2"].toInteger(), 10092544);
    QCOMPARE(bytes_of(root, "B_DS", "AlltoAll", "dispatch"), 20135936);
    QCOMPARE(bytes_of(root, "B0", "AllGather", "expert input"), 80543744);
    QCOMPARE(bytes_of(root, "S1", "AlltoAll", "dispatch"), 5046272);
    QCOMPARE(bytes_of(root, "S1", "AllGather", "expert input"), 20185088);
    QCOMPARE(bytes_of(root, "S1", "AllGather", "tokens"), 8388608);
    QCOMPARE(bytes_of(root, "S2", "AlltoAll", "dispatch"), 5046272);
    QCOMPARE(bytes_of(root, "S2", "AllGather", "dispatch"), 20185088);
  }

  // A model preset: `parm check --json` carries the model's counts (GPT-2 small's blocks, 6 of them MoE), and
  // a layer command says in one line that it works on the model's MoE layer.
  void checkModelPresetAndLayerNote() {
    const Result r = run_parm({"check", "gpt2-moe-small", "--json"});
    QCOMPARE(r.exit_code, 0);
    const QJsonObject model = parm_test::json_object_of(r.out)["model"].toObject();
    QCOMPARE(model["blocks"].toInteger(), 4);
    QCOMPARE(model["moe_blocks"].toInteger(), 2);
    QCOMPARE(model["padded_vocab"].toInteger(), 1024);  // 1000 up to a multiple of 128 x N_MP 2
    const QJsonObject params = model["parameters"].toObject(), rank = model["rank"].toObject();
    QVERIFY(params["total"].toInteger() > params["dense_equivalent"].toInteger());
    QVERIFY(rank["parameters"].toInteger() < params["total"].toInteger());
    QCOMPARE(rank["total_bytes"].toInteger(),
             rank["weights_bytes"].toInteger() + rank["gradients_bytes"].toInteger() +
                 rank["optimizer_bytes"].toInteger() + rank["activations_bytes"].toInteger() +
                 rank["logits_bytes"].toInteger());
    const Result text = run_parm({"check", "gpt2-moe-small"});
    QVERIFY2(text.out.contains("# model (gpt style): 4 blocks, the MoE layer in 2 (blocks 2, 4)"),
             text.out.constData());
    const Result layer = run_parm({"check", "default", "--json"});
    QVERIFY(!parm_test::json_object_of(layer.out).contains("model"));
    const Result dry = run_parm({"run", "gpt2-moe-small", "--dry-run"});
    QCOMPARE(dry.exit_code, 0);
    QVERIFY2(dry.err.contains("parm run: gpt2-moe-small is a gpt-style model of 4 blocks (2 with the MoE "
                              "layer); this measures that MoE layer"),
             dry.err.constData());
  }

  void checkTextNamesEverySchedule() {
    const Result r = run_parm({"check"});  // embedded default
    QCOMPARE(r.exit_code, 0);
    for (const char* s : {"B_DS ", "B_DS2", "B0 ", "S1 ", "S1F", "S2 ", "S2F"})
      QVERIFY2(r.out.contains(s), s);
  }

  void badConfigExitsTwoWithOneLinePerError() {
    QTemporaryDir dir;
    const QString path = dir.filePath("bad.json");
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(R"({"layer": {"num_experts": 6, "top_k": 7}, "parallel": {"ranks": 4, "mp": 3}})");
    f.close();
    const Result r = run_parm({"check", path});
    QCOMPARE(r.exit_code, 2);
    QVERIFY(r.out.isEmpty());
    const QList<QByteArray> lines = r.err.trimmed().split('\n');
    QVERIFY2(lines.size() >= 2, r.err.constData());
    for (const auto& line : lines) QVERIFY2(line.contains(": error: "), line.constData());
    QVERIFY(r.err.contains("layer.top_k"));
    QVERIFY(r.err.contains("parallel.mp"));
  }

  void missingFileIsRefused() {
    const Result r = run_parm({"check", "/nonexistent/x.json"});
    QCOMPARE(r.exit_code, 2);
    QCOMPARE(r.err.trimmed().count('\n'), 0);
  }

  void unknownSubcommandFails() {
    const Result r = run_parm({"frobnicate"});
    QVERIFY(r.exit_code != 0);
  }
};

QTEST_GUILESS_MAIN(TestCliParm)
#include "test_cli_parm.moc"
