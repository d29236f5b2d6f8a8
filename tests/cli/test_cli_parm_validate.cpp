// `parm validate` as users call it: a quick calibration of a tiny 4-rank layout (2 nodes x 2), then every
// schedule run for real and compared with its prediction: the JSON report holds every schedule's measured and
// predicted time and error, the selection accuracy and regret, and is stored as a run of kind "validation";
// --max-error makes it exit 3, and a calibration from another layout is refused with exit 2. Every measured
// time comes with its p10-p90; ties of the measured best are counted; --repeat 2 on a 2-rank grid of two tiny
// layers measures each twice, interleaved (the stored runs alternate between the layers), with the run-to-run
// spread per schedule; a bad --repeat is one line.
#include <QFile>
#include <QRegularExpression>
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

// Two tiny layers (batch 1 and 2) on 2 local ranks: a grid, so --repeat's interleaving shows in the runs.
QString write_tiny2_grid(const QTemporaryDir& dir, QString* config) {
  const char* base = R"({"name": "tiny2",
    "layer": {"batch": 2, "seq_len": 8, "hidden": 8, "ffn_hidden": 16, "num_experts": 4, "top_k": 2},
    "parallel": {"ranks": 2, "gpus_per_node": 2, "mp": 1, "esp": 1},
    "run": {"warmup": 1, "iterations": 3}})";
  *config = dir.filePath("tiny2.json");
  QFile c(*config);
  if (!c.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(*config));
  c.write(base);
  const QString path = dir.filePath("tiny2-grid.json");
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
  f.write(QByteArray(R"({"name": "tiny2-grid", "base": )") + base + R"(, "axes": {"batch": [1, 2]}})");
  return path;
}

nlohmann::json parse_json(const QByteArray& out) {
  try {
    return nlohmann::json::parse(out.toStdString());
  } catch (const std::exception& e) {
    qWarning("%s", e.what());
    return {};
  }
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
    QCOMPARE(j["repeat"].get<int>(), 1);
    for (const auto& s : layer["schedules"]) {
      QVERIFY2(s["measured_ms"].get<double>() > 0, s.dump().c_str());
      // One run: the measured value is the median over its iterations, with its p10-p90 over 3 iterations.
      const auto& spread = s["measured_ms_spread"];
      QCOMPARE(spread["n"].get<int>(), 3);
      QCOMPARE(spread["p50"].get<double>(), s["measured_ms"].get<double>());
      QVERIFY2(spread["p10"].get<double>() <= spread["p50"].get<double>() &&
                   spread["p50"].get<double>() <= spread["p90"].get<double>(),
               s.dump().c_str());
      QCOMPARE(s["runs"]["relative_range"].get<double>(), 0.0);
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
    QCOMPARE(j["measured_ties"].get<int>(), tied.size() > 1 ? 1 : 0);
    QCOMPARE(j["correct_by_tie"].get<int>(),
             layer["correct"].get<bool>() && layer["predicted_best"] != layer["measured_fastest"] ? 1 : 0);
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

  void repeatMeasuresInterleavedWithTheRunToRunSpread() {
    QString config;
    const QString grid = write_tiny2_grid(dir_, &config);
    const QString calib = dir_.filePath("calib2.json"), db = dir_.filePath("repeat.sqlite");
    const Result c = run_parm({"calibrate", config, "--quick", "--out", calib}, dir_.path());
    QVERIFY2(c.exit_code == 0, c.err.constData());
    const Result r =
        run_parm({"validate", grid, "--calibration", calib, "--repeat", "2", "--db", db, "--json"},
                 dir_.path(), 120000);
    QVERIFY2(r.exit_code == 0, r.err.constData());
    const nlohmann::json j = parse_json(r.out);
    QVERIFY2(j.is_object(), r.out.constData());
    QCOMPARE(j["repeat"].get<int>(), 2);
    QCOMPARE(j["layers"].size(), std::size_t{2});
    QVERIFY2(j["measured_best_rule"].get<std::string>().find("all 2 runs x 3 iterations pooled") !=
                 std::string::npos,
             j["measured_best_rule"].dump().c_str());
    // Interleaved: round 1 measures layer 0 then layer 1, round 2 again both, so the stored runs alternate.
    const auto& l0 = j["layers"][0]["measured_runs"];
    const auto& l1 = j["layers"][1]["measured_runs"];
    QVERIFY2(l0.size() == 2 && l1.size() == 2, j["layers"].dump().c_str());
    QVERIFY2(l0[0].get<int>() < l1[0].get<int>() && l1[0].get<int>() < l0[1].get<int>() &&
                 l0[1].get<int>() < l1[1].get<int>(),
             (l0.dump() + " " + l1.dump()).c_str());
    const auto store = parm::db::Database::open(db.toStdString(), false);
    for (const auto& layer : j["layers"]) {
      QCOMPARE(layer["measured_run"], layer["measured_runs"][0]);
      // Both runs of a layer measured that layer.
      std::vector<int> batches;
      for (const auto& id : layer["measured_runs"]) {
        const auto run = store.run(id.get<std::int64_t>());
        QVERIFY(run.has_value());
        QCOMPARE(run->kind, std::string("measured"));
        batches.push_back(nlohmann::json::parse(run->config_json)["layer"]["batch"].get<int>());
      }
      QCOMPARE(batches[0], batches[1]);
      for (const auto& s : layer["schedules"]) {
        const auto& runs = s["runs"];
        QCOMPARE(runs["medians_ms"].size(), std::size_t{2});
        const double lo = runs["min"].get<double>(), mid = runs["median"].get<double>(),
                     hi = runs["max"].get<double>();
        QVERIFY2(lo <= mid && mid <= hi && lo > 0, runs.dump().c_str());
        QCOMPARE(s["measured_ms"].get<double>(), mid);  // the median of the two medians
        QVERIFY(std::abs(runs["relative_range"].get<double>() - (hi - lo) / mid) < 1e-12);
        QCOMPARE(s["measured_ms_spread"]["n"].get<int>(), 6);  // 2 runs x 3 iterations pooled
      }
      QVERIFY(layer["run_to_run"]["max_relative_range"].get<double>() >=
              layer["run_to_run"]["mean_relative_range"].get<double>());
    }
    int ties = 0, by_tie = 0, correct = 0;
    for (const auto& layer : j["layers"]) {
      ties += layer["measured_tied"].size() > 1;
      correct += layer["correct"].get<bool>();
      by_tie += layer["correct"].get<bool>() && layer["predicted_best"] != layer["measured_fastest"];
    }
    QCOMPARE(j["measured_ties"].get<int>(), ties);
    QCOMPARE(j["correct_by_tie"].get<int>(), by_tie);
    QCOMPARE(j["selection_correct"].get<int>(), correct);
    QVERIFY(j["run_to_run"]["mean_relative_range"].get<double>() >= 0);

    // The text report: every schedule row with its p10-p90 and the runs' min-max, the ties in the summary,
    // and last the run-to-run spread of this setting.
    const Result t =
        run_parm({"validate", config, "--calibration", calib, "--repeat", "2"}, dir_.path(), 120000);
    QVERIFY2(t.exit_code == 0, t.err.constData());
    QVERIFY2(t.err.contains("[run 1/2] [1/1] tiny2") && t.err.contains("[run 2/2] [1/1] tiny2"),
             t.err.constData());
    const QList<QByteArray> lines = t.out.trimmed().split('\n');
    QVERIFY2(lines.last().startsWith("run-to-run spread over 2 runs: "), t.out.constData());
    QVERIFY2(t.out.contains("measured ms [p10-p90]") && t.out.contains("runs' medians min-max (range)"),
             t.out.constData());
    QVERIFY2(t.out.contains("a tie, ") && t.out.contains("right only thanks to a tie"), t.out.constData());
    const QRegularExpression row(
        R"(^B_DS +[0-9.]+ \[[0-9.]+-[0-9.]+\] +[0-9.]+ +[0-9.]+% +[0-9.]+x +[0-9.]+-[0-9.]+ \([0-9.]+%\))");
    bool found = false;
    for (const QByteArray& line : lines) {
      found = found || row.match(QString::fromUtf8(line)).hasMatch();
      if (line.startsWith("sched ") || line.startsWith("B_") || line.startsWith("B0") || line.startsWith("S"))
        QVERIFY2(line.size() <= 110, line.constData());  // the table stays readable
    }
    QVERIFY2(found, t.out.constData());
  }

  // --degrees (issue 19): every schedule also at the degrees listed, each measured and predicted, and the
  // reason is the reason of the predicted best over that space; a degree outside 1/2/4/8 is one line.
  void degreesWidenTheValidatedSpace() {
    const Result r = run_parm(
        {"validate", config_, "--calibration", calib_, "--degrees", "1,2", "--max-error", "100000", "--json"},
        dir_.path(), 120000);
    QVERIFY2(r.exit_code == 0, r.err.constData());
    const nlohmann::json j = nlohmann::json::parse(r.out.toStdString());
    const auto& layer = j["layers"][0];
    QCOMPARE(layer["schedules"].size(), std::size_t{28});  // 7 schedules x (1,1) (1,2) (2,1) (2,2)
    QStringList names;
    for (const auto& s : layer["schedules"]) {
      names << QString::fromStdString(s["schedule"].get<std::string>());
      QVERIFY2(s["measured_ms"].get<double>() > 0 && s["predicted_ms"].get<double>() > 0, s.dump().c_str());
    }
    for (const char* n : {"B_DS", "B_DSr2", "S1r2", "S2Fr2", "S1f1b2", "S2Ff2b1"})
      QVERIFY2(names.contains(n), n);
    const std::string best = layer["predicted_best"].get<std::string>();
    QVERIFY2(layer["reason"].get<std::string>().rfind(best + ": ", 0) == 0, layer["reason"].dump().c_str());

    const Result bad =
        run_parm({"validate", config_, "--calibration", calib_, "--degrees", "3"}, dir_.path());
    QVERIFY2(bad.exit_code == 2, bad.err.constData());
    QCOMPARE(bad.err.trimmed().count('\n'), 0);
    QVERIFY2(bad.err.contains("--degrees"), bad.err.constData());
  }

  // --alltoall (issue 19): on 2 nodes x 2 with N_MP = 1 each unfused schedule also runs with the hierarchical
  // AlltoAll, measured beside its flat twin and predicted from the calibration's EP-intra / EP-inter fits;
  // the recommendation's reason speaks of the message counts; a name outside flat/2dh is one line.
  void alltoallWidensTheValidatedSpace() {
    const QString config = dir_.filePath("tiny-ep4.json");
    {
      QFile f(config);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(R"({"name": "tiny-ep4",
    "layer": {"batch": 2, "seq_len": 8, "hidden": 8, "ffn_hidden": 16, "num_experts": 4, "top_k": 2},
    "parallel": {"ranks": 4, "gpus_per_node": 2, "mp": 1, "esp": 1},
    "run": {"warmup": 1, "iterations": 3}})");
    }
    const QString calib = dir_.filePath("calib-ep4.json");
    const Result c = run_parm({"calibrate", config, "--quick", "--out", calib}, dir_.path());
    QVERIFY2(c.exit_code == 0, c.err.constData());
    const Result r = run_parm({"validate", config, "--calibration", calib, "--alltoall", "flat,2dh",
                               "--max-error", "100000", "--json"},
                              dir_.path(), 120000);
    QVERIFY2(r.exit_code == 0, r.err.constData());
    const nlohmann::json j = nlohmann::json::parse(r.out.toStdString());
    const auto& layer = j["layers"][0];
    QCOMPARE(layer["schedules"].size(), std::size_t{12});  // 7 flat + 5 hierarchical (not S1F, S2F)
    QStringList names;
    for (const auto& s : layer["schedules"]) {
      names << QString::fromStdString(s["schedule"].get<std::string>());
      QVERIFY2(s["measured_ms"].get<double>() > 0 && s["predicted_ms"].get<double>() > 0, s.dump().c_str());
    }
    for (const char* n : {"B_DSh", "B_DS2h", "B0h", "S1h", "S2h", "S1F"}) QVERIFY2(names.contains(n), n);
    QVERIFY(!names.contains("S1Fh"));
    const std::string reason = layer["reason"].get<std::string>();
    QVERIFY2(reason.find("inter-node message") != std::string::npos, reason.c_str());

    const Result bad =
        run_parm({"validate", config, "--calibration", calib, "--alltoall", "ring"}, dir_.path());
    QVERIFY2(bad.exit_code == 2, bad.err.constData());
    QCOMPARE(bad.err.trimmed().count('\n'), 0);
    QVERIFY2(bad.err.contains("--alltoall"), bad.err.constData());
  }

  void badRepeatIsOneLine() {
    for (const char* k : {"0", "-1", "two"}) {
      const Result r = run_parm({"validate", config_, "--calibration", calib_, "--repeat", k}, dir_.path());
      QVERIFY2(r.exit_code == 2, r.err.constData());
      QCOMPARE(r.err.trimmed().count('\n'), 0);
      QVERIFY2(r.err.contains("--repeat") && r.err.contains(">= 1"), r.err.constData());
      QVERIFY(r.out.isEmpty());
    }
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
