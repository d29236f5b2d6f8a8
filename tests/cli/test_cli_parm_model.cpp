// `parm run --model` (issue 18, item 4): whole-model training steps per schedule on 4 ranks, measured with
// every MoE block on that schedule: the iteration's parts, the gradient sync, the loss; the traced blocks
// and AllReduces in the project; and the runs it refuses, each in one line.
#include <QFile>
#include <QJsonArray>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>

#include "tests/support/parm_process.h"

namespace {

using Result = parm_test::ProcessResult;
using parm_test::run_parm;

}  // namespace

class TestCliParmModel : public QObject {
  Q_OBJECT

 private slots:
  void runsTheModelPerSchedule() {
    const Result r = run_parm({"run", "gpt2-moe-small", "--model", "--schedules", "B_DS,S2,S1", "--json"});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    const QJsonObject out = parm_test::json_object_of(r.out);
    QCOMPARE(out["unit"].toString(), QString("model"));
    const QJsonArray rows = out["summary"].toArray();
    QCOMPARE(rows.size(), 3);
    // ln(1024): the small random weights give near-uniform predictions over the padded vocabulary.
    const double uniform = std::log(1024.0);
    for (const QJsonValue v : rows) {
      const QJsonObject row = v.toObject();
      const QString name = row["schedule"].toString();
      QVERIFY2(row["forward_ms"].toDouble() > 0 && row["backward_ms"].toDouble() > 0, qPrintable(name));
      QCOMPARE(row["iteration_ms"].toDouble(), row["total_ms"].toDouble());
      QVERIFY2(row["iteration_ms"].toDouble() >= row["forward_ms"].toDouble(), qPrintable(name));
      // Two MP groups: the dense gradients and routers are reduced over the EP group, some of it exposed.
      QVERIFY2(row["sync_ms"].toDouble() > 0, qPrintable(name));
      QVERIFY2(row["exposed_sync_ms"].toDouble() <= row["backward_ms"].toDouble(), qPrintable(name));
      QVERIFY2(std::fabs(row["loss"].toDouble() - uniform) < 0.5, qPrintable(name));
    }
    // B_DS and S2 route every token as the reference does, so the step computes the same loss; S1 gates
    // slices with their own capacity (drop regime), which may drop other tokens.
    QVERIFY(std::fabs(rows[0].toObject()["loss"].toDouble() - rows[1].toObject()["loss"].toDouble()) < 1e-9);
    QCOMPARE(rows[0].toObject()["speedup_vs_bds"].toDouble(), 1.0);
    const QJsonObject rank0 = out["raw"].toObject()["ranks"].toArray()[0].toObject();
    const QJsonObject first = rank0["schedules"].toArray()[0].toObject();
    QCOMPARE(first["exposed_sync_s"].toArray().size(), first["forward_s"].toArray().size());
    QCOMPARE(first["sync_s"].toArray().size(), first["forward_s"].toArray().size());
  }

  void textTableAndBert() {
    const Result r = run_parm({"run", "bert-moe-small", "--model", "--schedules", "S1F"});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QVERIFY2(r.out.contains("model: bert-style, 4 blocks (4 with the MoE layer)"), r.out.constData());
    QVERIFY2(r.out.contains("bwd+sync ms") && r.out.contains("exposed ms") && r.out.contains("loss"),
             r.out.constData());
    QVERIFY2(!r.err.contains("this measures that MoE layer"), r.err.constData());
  }

  // Every block section, the tensor-parallel and the data-parallel AllReduces are traced ops of the run.
  void storesTheTracedBlocks() {
    QTemporaryDir dir;
    const QString db = dir.filePath("model.sqlite"), csv = dir.filePath("events.csv");
    const Result r = run_parm({"run", "gpt2-moe-small", "--model", "--schedules", "S2", "--db", db});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    const Result e = run_parm({"export", "--db", db, "--run", "1", "--format", "csv", "-o", csv});
    QVERIFY2(e.exit_code == 0, e.err.constData());
    QFile f(csv);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const QByteArray text = f.readAll();
    for (const char* needle :
         {",0,S2,0,fwd,Attention,None,block0,", ",0,S2,0,bwd,FFN,None,block0,",
          ",1,S2,0,fwd,AllReduce,TP,block2 attention,", ",2,S2,0,bwd,AllReduce,DP,gradient bucket 0,",
          ",2,S2,0,bwd,AllReduce,DP,block3 router gradient,", ",0,S2,0,fwd,Loss,None,head,"})
      QVERIFY2(text.contains(needle), needle);
    // The MoE layers trace their own ops in the same run.
    QVERIFY(text.contains(",2,S2,0,fwd,AlltoAll,EP,"));
  }

  // parm calibrate on a model config adds the blocks' fits; parm predict --model prices every schedule's step
  // from them; parm validate --model measures the steps and compares.
  void calibratePredictValidate() {
    QTemporaryDir dir;
    const QString calib = dir.filePath("calib.json");
    const Result c = run_parm({"calibrate", "gpt2-moe-small", "--quick", "--out", calib});
    QVERIFY2(c.exit_code == 0, c.err.constData());
    for (const char* table : {"attention (local, each rank)", "layernorm, elementwise (GELU)"})
      QVERIFY2(c.out.contains(table), table);
    const Result p = run_parm({"predict", "gpt2-moe-small", "--calibration", calib, "--model", "--json"});
    QVERIFY2(p.exit_code == 0, p.err.constData());
    const QJsonObject pred = parm_test::json_object_of(p.out);
    const QJsonArray rows = pred["schedules"].toArray();
    QCOMPARE(rows.size(), 7);
    QStringList names;
    for (const QJsonValue v : rows) {
      const QJsonObject r = v.toObject();
      names << r["schedule"].toString();
      QVERIFY(std::fabs(r["iteration_ms"].toDouble() - r["forward_ms"].toDouble() -
                        r["backward_ms"].toDouble() - r["exposed_sync_ms"].toDouble()) < 1e-9);
      QVERIFY(r["moe_ms"].toDouble() > 0 && r["attention_ms"].toDouble() > 0);
    }
    QVERIFY(names.contains(pred["auto"].toString()));
    QVERIFY(names.contains(pred["layer_choice"].toString()));
    const Result text = run_parm({"predict", "gpt2-moe-small", "--calibration", calib, "--model"});
    QVERIFY2(text.out.contains("<- auto") && text.out.contains("the layer alone would choose"),
             text.out.constData());

    const QString db = dir.filePath("validate.sqlite");
    const Result v =
        run_parm({"validate", "gpt2-moe-small", "--model", "--calibration", calib, "--json", "--db", db});
    QVERIFY2(v.exit_code == 0, v.err.constData());
    const QJsonObject report = parm_test::json_object_of(v.out);
    QCOMPARE(report["unit"].toString(), QString("model"));
    QCOMPARE(report["schedules"].toArray().size(), 7);
    for (const QJsonValue r : report["schedules"].toArray()) {
      const QJsonObject row = r.toObject();
      const double want = 100 * std::fabs(row["predicted_ms"].toDouble() - row["measured_ms"].toDouble()) /
                          row["measured_ms"].toDouble();
      QVERIFY(std::fabs(row["error_pct"].toDouble() - want) < 1e-6);
    }
    QVERIFY(report["regret_pct"].toDouble() >= 0);
    // The measured run is stored with the predicted step of every schedule beside it: the project's
    // comparison has a prediction per schedule, ending with its predicted iteration.
    const int run = report["run"].toInt();
    QVERIFY(run > 0);
    const Result shown = run_parm({"show", "--db", db, "--run", QString::number(run), "--verdict", "--json"});
    QVERIFY2(shown.exit_code == 0, shown.err.constData());
    const QJsonObject verdict = parm_test::json_object_of(shown.out);
    QCOMPARE(verdict["predicted_source"].toString(), QString("stored predictions"));
    QCOMPARE(verdict["predicted_best"].toString(), report["auto"].toString());
    QCOMPARE(report["choice_correct"].toBool(), report["measured_tied"].toArray().contains(report["auto"]));
    // A threshold below the error exits 3, after the report.
    const Result strict =
        run_parm({"validate", "gpt2-moe-small", "--model", "--calibration", calib, "--max-error", "0"});
    QCOMPARE(strict.exit_code, 3);
    QVERIFY2(strict.err.contains("exceeds --max-error"), strict.err.constData());
  }

  void refusesInOneLine_data() {
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("line");
    QTest::newRow("no model") << QStringList{"run", "default", "--model"}
                              << "parm run --model: default has no 'model' section";
    QTest::newRow("verify") << QStringList{"run", "gpt2-moe-small", "--model", "--verify"}
                            << "parm run --model: --verify checks the lone layer";
    QTest::newRow("cuda") << QStringList{"run", "gpt2-moe-small", "--model", "--backend", "cuda"}
                          << "parm run";
  }
  void refusesInOneLine() {
    QFETCH(QStringList, args);
    QFETCH(QString, line);
    const Result r = run_parm(args);
    QCOMPARE(r.exit_code, 2);
    QVERIFY2(r.err.startsWith(line.toUtf8()), r.err.constData());
    QCOMPARE(r.err.count('\n'), 1);
  }
};

QTEST_GUILESS_MAIN(TestCliParmModel)
#include "test_cli_parm_model.moc"
