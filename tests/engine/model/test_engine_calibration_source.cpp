// `--calibration ID|FILE` (engine/calibration_source.h): a calibration read back from the project database by
// run id, "PROJECT#ID" or the project's latest, the same as its JSON file; every wrong reference refused with
// a line naming the argument and the reason.
#include <QTemporaryDir>
#include <QtTest>

#include "db/database.h"
#include "engine/model/calibration_source.h"

using namespace parm;

namespace {

Calibration sample(const std::string& id, double beta) {
  return calibration_from_json(
      {{"id", id},
       {"layout", {{"ranks", 4}, {"gpus_per_node", 2}, {"mp", 2}, {"esp", 2}}},
       {"interference", 1.25},
       {"fits",
        {{{"op", "alltoall"}, {"communicator", "EP"}, {"group_size", 2}, {"alpha", 0.01}, {"beta", beta}}}}});
}

std::int64_t store(db::Database& db, const std::string& kind, const Calibration* c, bool finish) {
  db::RunInfo run;
  run.name = "x";
  run.kind = kind;
  run.ranks = 4;
  const std::int64_t id = db.begin_run(run);
  if (c) db.set_result(id, to_json(*c).dump());
  if (finish) db.finish_run(id);
  return id;
}

void expect_error(const std::string& ref, const std::string& db, const char* fragment) {
  try {
    load_calibration_ref(ref, db);
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    QVERIFY2(what.find(fragment) != std::string::npos, what.c_str());
    QVERIFY2(what.find('\n') == std::string::npos, what.c_str());
    return;
  }
  QFAIL(qPrintable(QString::fromStdString("no error for " + ref)));
}

}  // namespace

class TestCalibrationSource : public QObject {
  Q_OBJECT
 private slots:
  void byIdPathAndLatest() {
    QTemporaryDir dir;
    const std::string path = dir.filePath("p.sqlite").toStdString();
    std::int64_t first = 0, measured = 0, second = 0, unfinished = 0;
    {
      db::Database db = db::Database::open(path, true);
      const Calibration a = sample("calib-a", 1e-6), b = sample("calib-b", 2e-6);
      first = store(db, "calibration", &a, true);
      measured = store(db, "measured", nullptr, true);
      second = store(db, "calibration", &b, true);
      unfinished = store(db, "calibration", &a, false);
    }
    QCOMPARE(load_calibration_ref(std::to_string(first), path).id, std::string("calib-a"));
    QCOMPARE(load_calibration_ref(path + "#" + std::to_string(second), path).id, std::string("calib-b"));
    const Calibration latest = load_calibration_ref(path, "");  // the latest complete one, not the unfinished
    QCOMPARE(latest.id, std::string("calib-b"));
    QCOMPARE(latest.interference, 1.25);
    QCOMPARE(latest.find("alltoall")->fit.beta, 2e-6);

    expect_error(std::to_string(measured), path, "is a measured run, not a calibration");
    expect_error(std::to_string(unfinished), path, "is incomplete");
    expect_error("999", path, "has no run 999");
    expect_error(std::to_string(first), "", "needs the project database");
  }

  void jsonFileStillWorks() {
    QTemporaryDir dir;
    const std::string file = dir.filePath("c.json").toStdString();
    save_calibration_file(sample("calib-file", 3e-6), file);
    QCOMPARE(load_calibration_ref(file, "").id, std::string("calib-file"));
    expect_error(dir.filePath("missing.json").toStdString(), "", "No such file or directory");
  }
};

QTEST_GUILESS_MAIN(TestCalibrationSource)
#include "test_engine_calibration_source.moc"
