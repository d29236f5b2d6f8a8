// Issue 17, item 1, on the emulated 2 x 2 cluster at 1 Gbit/s: a traced `parm run --db` of S1F and S2F, read
// back with `parm steps --json`. On every rank, lane and measured iteration the pipeline steps start and end
// in the executor's issue order (pipeline_plan.h's wavefront order filtered to the lane), and the timeline
// model (predict_timeline, same layout) simulates each lane in that same order, so measured and simulated
// step order per lane agree. Plus the command's one-line refusals. Exits 77 (skipped) when not root or when
// network namespaces are not permitted here.
#include <unistd.h>

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>
#include <cstdio>

#include "engine/core/config_json.h"
#include "engine/core/sizes.h"
#include "engine/model/pipeline_steps.h"
#include "engine/model/timeline_model.h"
#include "tests/support/emulated_cluster.h"
#include "tests/support/parm_process.h"
#include "tests/support/worked_cases.h"

using namespace parm;

namespace {

const QString kName = "qtsteps";  // fixed, so a killed earlier run's leftovers are removed at the start

constexpr const char* kConfig = R"({"name": "steps",
  "layer": {"batch": 2, "seq_len": 32, "hidden": 32, "ffn_hidden": 64, "num_experts": 4, "top_k": 2},
  "parallel": {"ranks": 4, "gpus_per_node": 2, "mp": 2, "esp": 2},
  "run": {"schedules": ["S1F", "S2F"], "warmup": 1, "iterations": 3}})";
constexpr int kIterations = 3;

using Result = parm_test::ProcessResult;

Result parm_cmd(const QStringList& args, int timeout_ms = 120000) {
  return parm_test::run_parm(args, {.timeout_ms = timeout_ms});
}

Config steps_config() {
  const ConfigLoad load = config_from_json_text(kConfig);
  if (!load.ok()) qFatal("fixture config does not load");
  return *load.config;
}

// Every fit the model prices S1F and S2F with (values do not matter for the order: FIFO lanes fed in one
// issue order start and end their steps in it whatever the durations).
Calibration order_calibration(const Config& c) {
  Calibration calib;
  calib.id = "calib-steps";
  calib.layout = c.parallel;
  auto fit = [&](const char* op, const char* comm, int n, double alpha, double beta) {
    calib.fits.push_back(worked_cases::exact_fit(op, comm, n, alpha, beta));
  };
  fit("alltoall", "EP", 2, 0.2, 8e-6);
  fit("p2p", "EP", 2, 0.02, 8e-6);
  fit("allgather", "MP", 2, 0.03, 1e-6);
  fit("reducescatter", "MP", 2, 0.03, 1e-6);
  fit("allreduce", "MP", 2, 0.05, 2e-6);
  fit("gemm", "local", 1, 0.01, 1e-9);
  return calib;
}

}  // namespace

class TestCliParmSteps : public QObject {
  Q_OBJECT
  parm_test::ClusterTeardown guard_{kName};
  QTemporaryDir dir_;
  QString db_;

 private slots:
  void initTestCase() {
    parm_cmd({"cluster", "down", "--name", kName});  // leftovers of a killed run
    QVERIFY2(parm_test::cluster_leftovers(kName).isEmpty(),
             qPrintable(parm_test::cluster_leftovers(kName).join(' ')));
    const Result up = parm_cmd({"cluster", "up", "--nodes", "2", "--ranks-per-node", "2", "--inter-bandwidth",
                                "1gbit", "--name", kName});
    QVERIFY2(up.exit_code == 0, up.err.constData());
    const QString config = dir_.filePath("steps.json");
    QFile f(config);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(kConfig);
    f.close();
    db_ = dir_.filePath("steps.sqlite");
    const Result run = parm_cmd(
        {"run", config, "--ranks", "4", "--gpus-per-node", "2", "--cluster", kName, "--db", db_}, 180000);
    QVERIFY2(run.exit_code == 0, run.err.constData());
  }

  // The executor: per rank, lane and measured iteration, starts and ends in issue order.
  void everyLaneRanItsStepsInIssueOrder() {
    const QJsonObject o =
        parm_test::json_object_of(parm_test::output_of_success(parm_cmd({"steps", "--db", db_, "--json"})));
    QCOMPARE(o["steps"].toInt(), 2);
    QCOMPARE(o["has_prediction"].toBool(), false);  // `parm run` stores no prediction
    const QJsonArray schedules = o["schedules"].toArray();
    QCOMPARE(schedules.size(), 2);
    int checked = 0;
    for (const QJsonValue& sv : schedules) {
      const QJsonObject s = sv.toObject();
      const QJsonArray pipelines = s["pipelines"].toArray();
      QVERIFY2(pipelines.size() >= 2, qPrintable(s["schedule"].toString()));  // SAA, RSA or RS>A2A>AG
      for (const QJsonValue& pv : pipelines) {
        const QJsonObject p = pv.toObject();
        const QJsonArray ranks = p["ranks"].toArray();
        QCOMPARE(ranks.size(), 4);
        for (const QJsonValue& rv : ranks) {
          const QJsonObject r = rv.toObject();
          const QString where = s["schedule"].toString() + " " + p["phase"].toString() + " " +
                                p["name"].toString() + " " + p["purpose"].toString();
          QVERIFY2(r["iterations"].toInt() == kIterations, qPrintable(where));
          QVERIFY2(r["iterations_in_order"].toInt() == kIterations,
                   qPrintable(where + ": " + r["first_disorder"].toString()));
          ++checked;
        }
      }
    }
    QVERIFY(checked >= 2 * 2 * 4);
  }

  // The model: each lane simulated in the same issue order (predict_timeline's intervals).
  void theModelSimulatesTheSameOrder() {
    const Config c = steps_config();
    const DerivedSizes sizes = derive_sizes(c);
    for (const ScheduleKind kind : {ScheduleKind::S1F, ScheduleKind::S2F}) {
      const TimelinePrediction t = predict_timeline(c, sizes, order_calibration(c), kind);
      std::vector<StepSample> predicted;
      for (const PredictedInterval& iv : t.intervals)
        predicted.push_back({std::string(to_string(kind)), 0, 0, iv.phase, iv.name, iv.purpose, iv.chunk,
                             static_cast<std::int64_t>(iv.start_ms * 1e6),
                             static_cast<std::int64_t>(iv.end_ms * 1e6)});
      const StepTimeline steps = step_timeline(build_schedule(kind, c.parallel), sizes.n_ep, {}, predicted);
      QVERIFY(!steps.checks.empty());
      for (const PipelineCheck& check : steps.checks) {
        const PipelineOp& p = steps.pipelines[check.pipeline];
        const std::string where =
            std::string(to_string(kind)) + " " + (p.phase == 0 ? "fwd " : "bwd ") + p.name + " " + p.purpose;
        QVERIFY2(check.predicted_in_order.has_value(), where.c_str());
        QVERIFY2(*check.predicted_in_order, (where + ": " + check.predicted_disorder).c_str());
      }
    }
  }

  void refusalsAreOneLine() {
    const Result schedule = parm_cmd({"steps", "--db", db_, "--schedule", "S1"});
    QCOMPARE(schedule.exit_code, 2);
    QVERIFY2(schedule.err.contains("--schedule S1: not a schedule with fused pipelines") &&
                 schedule.err.contains("S1F, S2F") && schedule.err.count('\n') == 1,
             schedule.err.constData());
    const Result rank = parm_cmd({"steps", "--db", db_, "--rank", "4"});
    QCOMPARE(rank.exit_code, 2);
    QVERIFY2(rank.err.contains("ranks 0-3") && rank.err.count('\n') == 1, rank.err.constData());
    const Result missing = parm_cmd({"steps", "--db", db_, "--run", "99"});
    QCOMPARE(missing.exit_code, 2);
    QVERIFY2(missing.err.contains("no run 99") && missing.err.count('\n') == 1, missing.err.constData());
    const Result text = parm_cmd({"steps", "--db", db_, "--schedule", "S2F", "--rank", "2"});
    QVERIFY2(text.exit_code == 0, text.err.constData());
    QVERIFY2(text.out.contains("== S2F, rank 2") && text.out.contains("RS>A2A>AG") &&
                 text.out.contains("none stored"),
             text.out.constData());
  }

  void cleanupTestCase() {
    parm_cmd({"cluster", "down", "--name", kName});
    QVERIFY2(parm_test::cluster_leftovers(kName).isEmpty(),
             qPrintable(parm_test::cluster_leftovers(kName).join(' ')));
  }
};

int main(int argc, char** argv) {
  QString why;
  if (!parm_test::cluster_usable(&why)) {
    std::fprintf(stderr, "test_cli_parm_steps: skipped, %s\n", qPrintable(why));
    return 77;
  }
  QCoreApplication app(argc, argv);
  TestCliParmSteps t;
  return QTest::qExec(&t, argc, argv);
}

#include "test_cli_parm_steps.moc"
