// `parm run` on several ranks as users call it: the dry-run launch line, refusal of bad layouts before any
// process starts, the schedule table (every time with its p10-p90 over iterations), and a dead rank turning
// into a prompt non-zero exit naming it.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <cmath>

#include "tests/support/parm_process.h"

namespace {

using Result = parm_test::ProcessResult;

Result run_parm(const QStringList& args, int timeout_ms = 120000) {
  return parm_test::run_parm(args, {.timeout_ms = timeout_ms});
}

// The tiny layer of the issue: seconds to run on 2 local ranks.
QString write_tiny(const QTemporaryDir& dir, int mp) {
  const QString path = dir.filePath(QString("tiny-mp%1.json").arg(mp));
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
  f.write(QString(R"({"name": "tiny",
    "layer": {"batch": 2, "seq_len": 8, "hidden": 8, "ffn_hidden": 16, "num_experts": 4, "top_k": 2},
    "parallel": {"ranks": 2, "gpus_per_node": 2, "mp": %1, "esp": %1},
    "run": {"warmup": 1, "iterations": 2}})")
              .arg(mp)
              .toUtf8());
  return path;
}

const char* kSchedules[] = {"B_DS", "B_DS2", "B0", "S1", "S1F", "S2", "S2F"};

// A drop-regime layer on 2 ranks with N_MP = 2: C0 = ceil(16/8 * 0.75 * 2) = 3 slots for 4 choices per expert
// on average, odd, so S1/S1F (C1 = 2 per token slice) and B_DS2/S2/S2F (C2 = 4) route differently from the
// reference and get the routing-validity check; B_DS and B0 (C0) the reference check.
QString write_drop(const QTemporaryDir& dir) {
  const QString path = dir.filePath("drop.json");
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
  f.write(R"({"name": "drop",
    "layer": {"batch": 2, "seq_len": 8, "hidden": 8, "ffn_hidden": 16, "num_experts": 8, "top_k": 2,
              "capacity_factor": 0.75, "min_capacity": 1},
    "parallel": {"ranks": 2, "gpus_per_node": 2, "mp": 2, "esp": 2},
    "run": {"warmup": 0, "iterations": 1}})");
  return path;
}

bool routes_differently(const QString& schedule) {
  return schedule != "B_DS" && schedule != "B0";
}

}  // namespace

class TestCliParmRun : public QObject {
  Q_OBJECT
 private slots:
  void dryRunPrintsTheMpirunLine() {
    QTemporaryDir dir;
    const Result r = run_parm({"run", write_tiny(dir, 2), "--ranks", "2", "--dry-run"});
    QCOMPARE(r.exit_code, 0);
    const QByteArray line = r.out.trimmed();
    QCOMPARE(line.count('\n'), 0);
    QVERIFY2(line.contains("mpirun") || line.contains("mpiexec"), line.constData());
    QVERIFY2(line.contains(" -np 2 "), line.constData());
    QVERIFY2(line.contains(" worker --config "), line.constData());
    QVERIFY2(line.contains("OPENBLAS_NUM_THREADS=1"), line.constData());
  }

  void invalidLayoutIsRefusedBeforeStarting() {
    QTemporaryDir dir;
    const Result r = run_parm({"run", write_tiny(dir, 2), "--ranks", "3"});
    QCOMPARE(r.exit_code, 2);
    QVERIFY2(r.elapsed_ms < 2000, qPrintable(QString::number(r.elapsed_ms)));
    QVERIFY(r.out.isEmpty());
    QVERIFY2(r.err.contains("parallel.mp") || r.err.contains("parallel.ranks"), r.err.constData());
    QVERIFY2(!r.err.contains("starting"), r.err.constData());  // no mpirun was started
  }

  // bf16/fp16 on the cpu backend: `parm check` and `parm run` refuse it with one line naming layer.dtype and
  // the rule, exit 2, before any rank starts.
  void sixteenBitOnCpuIsRefusedBeforeStarting() {
    QTemporaryDir dir;
    for (const char* dtype : {"bf16", "fp16"}) {
      const QString path = dir.filePath(QString("tiny-%1.json").arg(dtype));
      QFile f(path);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(QString(R"({"name": "tiny",
        "layer": {"batch": 2, "seq_len": 8, "hidden": 8, "ffn_hidden": 16, "num_experts": 4, "top_k": 2,
                  "dtype": "%1"},
        "parallel": {"ranks": 2, "gpus_per_node": 2, "mp": 1, "esp": 1},
        "run": {"warmup": 1, "iterations": 2, "backend": "cpu"}})")
                  .arg(dtype)
                  .toUtf8());
      f.close();
      const QByteArray want = QByteArray("error: layer.dtype = ") + dtype +
                              ": the cpu backend computes in fp32 or fp64; " + dtype +
                              " runs on backend cuda or cuda+mpi";
      for (const QStringList& args : {QStringList{"check", path}, QStringList{"run", path, "--ranks", "2"}}) {
        const Result r = run_parm(args, 20000);
        QVERIFY2(r.exit_code == 2, qPrintable(args.join(' ') + ": " + r.err));
        const QByteArray line = r.err.trimmed();  // "<config path>: error: layer.dtype = ..."
        QVERIFY2(!line.contains('\n') && line.endsWith(": " + want),
                 qPrintable(args.join(' ') + ": " + r.err));
        QVERIFY2(!r.err.contains("starting"), r.err.constData());  // no mpirun was started
      }
    }
  }

  void unknownScheduleIsRefused() {
    QTemporaryDir dir;
    const Result r = run_parm({"run", write_tiny(dir, 2), "--ranks", "2", "--schedules", "B_DS,S9"});
    QCOMPARE(r.exit_code, 2);
    QVERIFY2(r.err.contains("--schedules") && r.err.contains("S9"), r.err.constData());
  }

  void twoRanksPrintEverySchedule_data() {
    QTest::addColumn<int>("mp");
    QTest::newRow("mp 2 (one EP rank)") << 2;
    QTest::newRow("mp 1 (two EP ranks)") << 1;
  }

  void twoRanksPrintEverySchedule() {
    QFETCH(int, mp);
    QTemporaryDir dir;
    const Result r = run_parm({"run", write_tiny(dir, mp), "--ranks", "2"});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QVERIFY2(r.out.contains("vs B_DS"), r.out.constData());
    QVERIFY2(r.out.contains("median [p10-p90] over iterations"), r.out.constData());
    // Every time with its spread: "median [p10-p90]" for forward, backward and total, p10 <= median <= p90.
    const QRegularExpression cell(R"(([0-9.]+) \[([0-9.]+)-([0-9.]+)\])");
    for (const char* s : kSchedules) {
      bool found = false;
      for (const QByteArray& line : r.out.split('\n')) {
        if (!line.startsWith(QByteArray(s) + ' ') || !line.contains('x')) continue;  // "1.23x" speedup
        found = true;
        QVERIFY2(line.size() <= 110, line.constData());
        int cells = 0;
        for (auto it = cell.globalMatch(QString::fromUtf8(line)); it.hasNext(); ++cells) {
          const QRegularExpressionMatch m = it.next();
          QVERIFY2(m.captured(2).toDouble() <= m.captured(1).toDouble() &&
                       m.captured(1).toDouble() <= m.captured(3).toDouble(),
                   line.constData());
        }
        QVERIFY2(cells == 3, line.constData());
      }
      QVERIFY2(found, s);
    }
  }

  void jsonSummaryHasSpeedups() {
    QTemporaryDir dir;
    const Result r =
        run_parm({"run", write_tiny(dir, 2), "--ranks", "2", "--json", "--schedules", "B_DS,S1,S2"});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QJsonParseError error{};
    const QJsonObject root = QJsonDocument::fromJson(r.out, &error).object();
    QVERIFY2(error.error == QJsonParseError::NoError, r.out.constData());
    QCOMPARE(root["ranks"].toInt(), 2);
    const QJsonArray rows = root["summary"].toArray();
    QCOMPARE(rows.size(), 3);
    QCOMPARE(rows[0].toObject()["schedule"].toString(), QString("B_DS"));
    QCOMPARE(rows[0].toObject()["speedup_vs_bds"].toDouble(), 1.0);
    for (const auto& v : rows) {
      const QJsonObject row = v.toObject();
      QVERIFY(row["total_ms"].toDouble() > 0);
      // The median's spread over the 2 measured iterations (slowest rank per iteration): p50 is the median.
      for (const char* key : {"forward_ms", "backward_ms", "total_ms"}) {
        const QJsonObject spread = row[QString(key) + "_spread"].toObject();
        QCOMPARE(spread["n"].toInt(), 2);
        QVERIFY(std::abs(spread["p50"].toDouble() - row[key].toDouble()) < 1e-9);
        QVERIFY(spread["p10"].toDouble() <= spread["p50"].toDouble());
        QVERIFY(spread["p50"].toDouble() <= spread["p90"].toDouble());
        QVERIFY(spread["min"].toDouble() <= spread["p10"].toDouble());
      }
    }
    QCOMPARE(root["raw"].toObject()["ranks"].toArray().size(), 2);
  }

  // --verify: a table row per schedule with its check, the errors of output, dX, dWg and the experts, the
  // tolerance and PASS; the routing-validity rows say what was checked; then the verdict line.
  void verifyPrintsThePerScheduleTable() {
    QTemporaryDir dir;
    const Result r = run_parm({"run", write_drop(dir), "--ranks", "2", "--verify"});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QVERIFY2(r.out.contains("verify: PASS (7 of 7 schedules)"), r.out.constData());
    const QList<QByteArray> lines = r.out.split('\n');
    const auto header = std::find_if(lines.begin(), lines.end(),
                                     [](const QByteArray& l) { return l.startsWith("schedule check"); });
    QVERIFY2(header != lines.end(), r.out.constData());
    for (const char* word : {"output", "dX", "dWg", "experts", "tolerance", "result"})
      QVERIFY2(header->contains(word), header->constData());
    for (const char* s : kSchedules) {
      const auto row = std::find_if(header, lines.end(), [&](const QByteArray& l) {
        return l.startsWith(QByteArray(s) + ' ') && l.contains("PASS");
      });
      QVERIFY2(row != lines.end(), s);
      const bool validity = routes_differently(s);
      QVERIFY2(row->contains(validity ? "routing validity" : "reference"), row->constData());
      QVERIFY2(row->contains("1.0e-05"), row->constData());  // fp32's tolerance
      if (validity) QVERIFY2(row->contains("kept ") && row->contains(", slots "), row->constData());
    }
  }

  void verifyJsonCarriesEachSchedulesReport() {
    QTemporaryDir dir;
    const Result r = run_parm({"run", write_drop(dir), "--ranks", "2", "--verify", "--json"});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QJsonParseError error{};
    const QJsonObject root = QJsonDocument::fromJson(r.out, &error).object();
    QVERIFY2(error.error == QJsonParseError::NoError, r.out.constData());
    QCOMPARE(root["verify"].toObject()["passed"].toBool(), true);
    const QJsonArray rows = root["summary"].toArray();
    QCOMPARE(rows.size(), 7);
    for (const auto& row : rows) {
      const QString schedule = row.toObject()["schedule"].toString();
      const QJsonObject v = row.toObject()["verify"].toObject();
      QCOMPARE(v["check"].toString(), routes_differently(schedule) ? "routing validity" : "reference");
      QCOMPARE(v["tolerance"].toDouble(), 1e-5);
      QVERIFY(v["passed"].toBool());
      for (const char* key : {"output", "input_grad", "router_grad", "expert_grads"}) {
        QVERIFY2(v[key].isDouble(), key);
        QVERIFY2(v[key].toDouble() >= 0 && v[key].toDouble() < 1e-5, qPrintable(schedule + " " + key));
      }
      QVERIFY(v["expert_params"].toObject().contains("dW2"));
      if (routes_differently(schedule)) {
        const QJsonObject routing = v["routing"].toObject();
        QCOMPARE(routing["kept"].toInt() + routing["dropped"].toInt(), 32);  // S * k choices, each once
        QVERIFY(routing["slots"].toInt() > 0);
      }
    }
  }

  void deadRankFailsPromptlyNamingIt() {
    QTemporaryDir dir;
    const Result r = run_parm({"run", write_tiny(dir, 2), "--ranks", "2", "--die-on-rank", "1"}, 60000);
    QVERIFY2(r.exit_code != 0, r.out.constData());
    QVERIFY2(r.exit_code != -2, "hung");
    QVERIFY2(r.elapsed_ms < 30000, qPrintable(QString::number(r.elapsed_ms)));
    const QList<QByteArray> lines = r.err.trimmed().split('\n');
    QVERIFY2(lines.last().startsWith("parm run: rank 1 died"), r.err.constData());
  }
};

QTEST_GUILESS_MAIN(TestCliParmRun)
#include "test_cli_parm_run.moc"
