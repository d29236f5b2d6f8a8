// `parm validate` as users call it: a quick calibration of a tiny 4-rank layout (2 nodes x 2), then every
// schedule run for real and compared with its prediction: the JSON report holds every schedule's measured and
// predicted time and error, the selection accuracy and regret, and is stored as a run of kind "validation";
// --max-error makes it exit 3, and a calibration from another layout is refused with exit 2.
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <nlohmann/json.hpp>

#include "db/database.h"
#include "tests/support/parm_process.h"

namespace {

using Result = parm_test::ProcessResult;

Result run_parm(const QStringList& args, const QString& cwd, int timeout_ms = 60000) {
  return parm_test::run_parm(args, {.working_directory = cwd, .timeout_ms = timeout_ms});
}

QString write_tiny(const QTemporaryDir& dir) {
  const QString path = dir.filePath("tiny.json");
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
  f.write(R"({"name": "tiny",
    "layer": {"batch": 2, "seq_len": 8, "hidden": 8, "ffn_hidden": 16, "num_experts": 4, "top_k": 2},
    "parallel": {"ranks": 4, "gpus_per_node": 2, "mp": 2, "esp": 2},
    "run": {"warmup": 1, "iterations": 3}})");
  return path;
}

}  // namespace

class TestCliParmValidate : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;
  QString config_, calib_, db_;

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    config_ = write_tiny(dir_);
    calib_ = dir_.filePath("calib.json");
    db_ = dir_.filePath("project.sqlite");
    const Result r = run_parm({"calibrate", config_, "--quick", "--out", calib_, "--db", db_}, dir_.path());
    QVERIFY2(r.exit_code == 0, r.err.constData());
  }

  void reportsEveryScheduleAndStoresIt() {
    const Result r = run_parm({"validate", config_, "--ranks", "4", "--gpus-per-node", "2", "--calibration",
                               calib_, "--db", db_, "--max-error", "100000", "--json"},
                              dir_.path());
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QVERIFY2(r.elapsed_ms < 60000, qPrintable(QString::number(r.elapsed_ms)));
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(r.out.toStdString());
    } catch (const std::exception& e) {
      QFAIL(e.what());
    }
    QCOMPARE(j["configurations"].get<int>(), 1);
    const auto& layer = j["layers"][0];
    QCOMPARE(layer["schedules"].size(), std::size_t{7});
    for (const auto& s : layer["schedules"]) {
      QVERIFY2(s["measured_ms"].get<double>() > 0, s.dump().c_str());
      QVERIFY2(s["predicted_ms"].get<double>() > 0, s.dump().c_str());
      QVERIFY2(s["error_pct"].is_number() && s["error_pct"].get<double>() >= 0, s.dump().c_str());
    }
    QVERIFY(layer["mean_error_pct"].get<double>() >= 0);
    QVERIFY(layer["max_error_pct"].get<double>() >= layer["mean_error_pct"].get<double>());
    QVERIFY(layer.contains("reason"));
    // The noise rule: the measured best is among the schedules tied within noise with the fastest median, and
    // "correct" means the predicted best is among them.
    const auto& tied = layer["measured_tied"];
    QVERIFY2(std::find(tied.begin(), tied.end(), layer["measured_best"]) != tied.end(), layer.dump().c_str());
    QCOMPARE(layer["correct"].get<bool>(),
             std::find(tied.begin(), tied.end(), layer["predicted_best"]) != tied.end());
    const double accuracy = j["selection_accuracy"].get<double>();
    QVERIFY2(accuracy >= 0 && accuracy <= 1, j.dump().c_str());
    QVERIFY(j["regret"]["mean"].get<double>() >= 0);
    QVERIFY(j["regret"]["max"].get<double>() >= 0);
    QVERIFY(j["mean_error_pct"].get<double>() > 0);
    QVERIFY2(!j["worst_ops"].empty() && j["worst_ops"].size() <= 5, j.dump().c_str());

    // Stored: the traced run and the report, as a run of kind "validation".
    const auto db = parm::db::Database::open(db_.toStdString(), false);
    const auto run = db.run(j["run"].get<std::int64_t>());
    QVERIFY(run.has_value());
    QCOMPARE(run->kind, std::string("validation"));
    QVERIFY(run->complete);
    QCOMPARE(nlohmann::json::parse(run->result_json)["mean_error_pct"], j["mean_error_pct"]);
    const auto measured = db.run(layer["measured_run"].get<std::int64_t>());
    QVERIFY(measured.has_value());
    QCOMPARE(measured->kind, std::string("measured"));

    // `parm show` of the validation run prints its report (it used to fail: "run result: config: missing").
    const QString id = QString::number(j["run"].get<std::int64_t>());
    const Result show = run_parm({"show", "--db", db_, "--run", id}, dir_.path());
    QVERIFY2(show.exit_code == 0, show.err.constData());
    QVERIFY(show.err.isEmpty());
    const QString chosen = QString::fromStdString(layer["predicted_best"].get<std::string>());
    const QString text = QString::fromUtf8(show.out);
    QVERIFY2(text.contains("tiny: chosen (predicted best) " + chosen), show.out.constData());
    QVERIFY2(text.contains("measured run " + QString::number(layer["measured_run"].get<std::int64_t>())),
             show.out.constData());
    QVERIFY2(text.contains("<- chosen"), show.out.constData());
    for (const auto& s : layer["schedules"]) {
      const QString line = QString::asprintf("%-6s %12.3f %13.3f", s["schedule"].get<std::string>().c_str(),
                                             s["predicted_ms"].get<double>(), s["measured_ms"].get<double>());
      QVERIFY2(text.contains(line), qPrintable(line + "\n" + text));
    }
    const Result json = run_parm({"show", "--db", db_, "--run", id, "--json"}, dir_.path());
    QVERIFY2(json.exit_code == 0, json.err.constData());
    QCOMPARE(nlohmann::json::parse(json.out.toStdString())["report"]["mean_error_pct"], j["mean_error_pct"]);
    // The calibration run of initTestCase shows its fits.
    const Result calib = run_parm({"show", "--db", db_, "--run", "1"}, dir_.path());
    QVERIFY2(calib.exit_code == 0, calib.err.constData());
    QVERIFY2(calib.out.contains("calibration") && calib.out.contains("alpha us"), calib.out.constData());
  }

  void exitsThreeAboveMaxError() {
    const Result r =
        run_parm({"validate", config_, "--calibration", calib_, "--max-error", "0.0001"}, dir_.path());
    QVERIFY2(r.exit_code == 3, r.err.constData());
    QVERIFY2(r.err.contains("exceeds --max-error"), r.err.constData());
  }

  void refusesCalibrationOfAnotherLayout() {
    const Result r = run_parm(
        {"validate", config_, "--ranks", "2", "--gpus-per-node", "2", "--calibration", calib_, "--json"},
        dir_.path());
    QVERIFY2(r.exit_code == 2, r.err.constData());
    QCOMPARE(r.err.count('\n'), 1);
    QVERIFY(r.out.isEmpty());
    QVERIFY2(!r.err.contains("starting"), r.err.constData());  // refused before any rank starts
  }
};

QTEST_GUILESS_MAIN(TestCliParmValidate)
#include "test_cli_parm_validate.moc"
