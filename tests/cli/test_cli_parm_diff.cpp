// `parm diff` on two real stored runs of one tiny 2-rank layer (and a third of another layer): every schedule
// and op compared with its spread and a verdict of the noise rule, as a table and as JSON; runs of different
// layers, a missing run and a missing project are one line and exit 2.
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>
#include <nlohmann/json.hpp>
#include <set>

#include "tests/support/parm_process.h"

namespace {

using Result = parm_test::ProcessResult;

Result run_parm(const QStringList& args) {
  return parm_test::run_parm(args, {.timeout_ms = 120000});
}

QString write_tiny(const QTemporaryDir& dir, int hidden) {
  const QString path = dir.filePath(QString("tiny-%1.json").arg(hidden));
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) qFatal("cannot write %s", qPrintable(path));
  f.write(QString(R"({"name": "tiny",
    "layer": {"batch": 2, "seq_len": 8, "hidden": %1, "ffn_hidden": 16, "num_experts": 4, "top_k": 2},
    "parallel": {"ranks": 2, "gpus_per_node": 2, "mp": 2, "esp": 2},
    "run": {"warmup": 1, "iterations": 3}})")
              .arg(hidden)
              .toUtf8());
  return path;
}

bool one_line(const Result& r, const char* what) {
  const QByteArray err = r.err.trimmed();
  return r.out.isEmpty() && !err.contains('\n') && err.contains(what);
}

}  // namespace

class TestCliParmDiff : public QObject {
  Q_OBJECT
 private:
  QTemporaryDir dir_;
  QString db_;

 private slots:
  void initTestCase() {
    QVERIFY(dir_.isValid());
    db_ = dir_.filePath("project.sqlite");
    const QString same = write_tiny(dir_, 8), other = write_tiny(dir_, 16);
    for (const QString& config : {same, same, other}) {
      const Result r = run_parm({"run", config, "--ranks", "2", "--db", db_});
      QVERIFY2(r.exit_code == 0, r.err.constData());
    }
  }

  void comparesEveryScheduleAndOp() {
    const Result r = run_parm({"diff", "--db", db_, "1", "2", "--json"});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    const nlohmann::json j = nlohmann::json::parse(r.out.toStdString());
    QCOMPARE(j["before"].get<int>(), 1);
    QCOMPARE(j["after"].get<int>(), 2);
    QCOMPARE(j["schedules"].size(), std::size_t{7});
    std::set<std::string> schedules;
    const auto verdict_ok = [](const std::string& v) {
      return v == "no change within noise" || v.rfind("faster by ", 0) == 0 || v.rfind("slower by ", 0) == 0;
    };
    for (const auto& s : j["schedules"]) {
      schedules.insert(s["schedule"].get<std::string>());
      QVERIFY2(verdict_ok(s["verdict"]), s.dump().c_str());
      // 2 ranks x 3 iterations per side.
      QCOMPARE(s["before_ms"]["n"].get<int>(), 6);
      QVERIFY(s["before_ms"]["p10"].get<double>() <= s["before_ms"]["p50"].get<double>());
      QVERIFY(s["after_ms"]["p50"].get<double>() > 0);
      QVERIFY(s["change_pct"].is_number());
    }
    QCOMPARE(schedules, (std::set<std::string>{"B_DS", "B_DS2", "B0", "S1", "S1F", "S2", "S2F"}));
    QVERIFY(j["ops"].size() > 7);
    for (const auto& o : j["ops"]) {
      QVERIFY2(verdict_ok(o["verdict"]), o.dump().c_str());
      QVERIFY(o.contains("op") && o.contains("purpose") && (o["phase"] == "fwd" || o["phase"] == "bwd"));
    }

    const Result table = run_parm({"diff", "--db", db_, "1", "2"});
    QVERIFY2(table.exit_code == 0, table.err.constData());
    QVERIFY(table.out.contains("run 1 (before) vs run 2 (after)"));
    QVERIFY(table.out.contains("S2F"));
    QVERIFY(table.out.contains("per op"));
  }

  void refusesWhatCannotBeCompared() {
    const Result layers = run_parm({"diff", "--db", db_, "1", "3"});
    QCOMPARE(layers.exit_code, 2);
    QVERIFY2(one_line(layers, "layer.hidden: 8 vs 16"), layers.err.constData());
    const Result missing = run_parm({"diff", "--db", db_, "1", "99"});
    QCOMPARE(missing.exit_code, 2);
    QVERIFY2(one_line(missing, "no run 99"), missing.err.constData());
    const Result nofile = run_parm({"diff", "--db", dir_.filePath("none.sqlite"), "1", "2"});
    QCOMPARE(nofile.exit_code, 2);
    QVERIFY2(one_line(nofile, "none.sqlite"), nofile.err.constData());
    const Result bad = run_parm({"diff", "--db", db_, "1"});
    QCOMPARE(bad.exit_code, 2);
  }
};

QTEST_GUILESS_MAIN(TestCliParmDiff)
#include "test_cli_parm_diff.moc"
