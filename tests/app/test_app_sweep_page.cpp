// The sweep page on validation runs (issue 16, broken 5): the table showed nothing (not even headers) for a
// validation run, and a one-configuration heat map was one cell. Validation runs are written as `parm
// validate --db` writes them: one measured run per configuration (its configuration stored), and the report
// naming each layer's measured run, with every schedule's predicted and measured layer ms.
#include <QAbstractItemModelTester>
#include <QApplication>
#include <QBarSeries>
#include <QBarSet>
#include <QChart>
#include <QDir>
#include <QPalette>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>
#include <nlohmann/json.hpp>

#include "app/app_theme.h"
#include "app/compare/heat_map_widget.h"
#include "app/compare/sweep_model.h"
#include "app/compare/sweep_page.h"
#include "db/database.h"
#include "db/run_queries.h"
#include "engine/core/config.h"
#include "engine/core/config_json.h"

using namespace parm;
using namespace parm::app;

namespace {

const QStringList kSchedules = {"B_DS", "B_DS2", "S1", "S2"};

double predictedMs(int layer, int s) {
  return 40.0 + 2.0 * layer + 1.5 * s;
}
double measuredMs(int layer, int s) {
  return 38.0 + 2.5 * layer + 1.25 * (3 - s);
}

// A validation run of `batches.size()` configurations (batch varies); returns its id.
qint64 storeValidation(const QString& path, const std::vector<int>& batches) {
  db::Database database = db::Database::open(path.toStdString(), true);
  nlohmann::json layers = nlohmann::json::array();
  for (std::size_t i = 0; i < batches.size(); ++i) {
    Config c;
    c.name = "b" + std::to_string(batches[i]);
    c.layer.batch = batches[i];
    db::RunInfo measured;
    measured.name = c.name;
    measured.kind = "measured";
    measured.config_json = config_to_json(c).dump();
    const qint64 run = database.begin_run(measured);
    database.finish_run(run);
    nlohmann::json schedules = nlohmann::json::array();
    for (int s = 0; s < kSchedules.size(); ++s)
      schedules.push_back({{"schedule", kSchedules[s].toStdString()},
                           {"predicted_ms", predictedMs(int(i), s)},
                           {"measured_ms", measuredMs(int(i), s)}});
    layers.push_back({{"config", c.name},
                      {"predicted_best", "B_DS"},
                      {"measured_best", "S2"},
                      {"measured_run", run},
                      {"schedules", schedules}});
  }
  db::RunInfo validation;
  validation.name = "validation";
  validation.kind = "validation";
  const qint64 run = database.begin_run(validation);
  database.set_result(run, nlohmann::json{{"configurations", batches.size()}, {"layers", layers}}.dump());
  database.finish_run(run);
  return run;
}

// The application's own dark theme's palette, for PARM_SCREENSHOT_DARK.
void useDarkPalette() {
  QApplication::setStyle(QStringLiteral("Fusion"));
  QApplication::setPalette(parm::app::darkPalette());
}

}  // namespace

class TestAppSweepPage : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;

 private Q_SLOTS:
  void headersWithoutRows() {
    SweepModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(model.rowCount(), 0);
    QVERIFY(model.columnCount() >= 3);
    QStringList headers;
    for (int c = 0; c < model.columnCount(); ++c) headers << model.headerData(c, Qt::Horizontal).toString();
    QCOMPARE(headers.front(), QStringLiteral("Config"));
    QVERIFY(headers.contains(QStringLiteral("B_DS predicted ms")));
    QVERIFY(headers.contains(QStringLiteral("Chosen")));
    // Cleared after rows: the headers come back, not a blank table.
    SweepRow r;
    r.label = "x";
    r.predicted = {{"B_DS", 1.0}};
    model.setRows({r});
    model.clear();
    QVERIFY(model.columnCount() >= 3);
    QVERIFY(!model.headerData(0, Qt::Horizontal).toString().isEmpty());
  }

  void tableShowsTheValidationRun() {
    const QString path = dir_.filePath(QStringLiteral("one.sqlite"));
    const qint64 run = storeValidation(path, {4});
    SweepPage page;
    QVERIFY(page.setRun(path, run));
    QAbstractItemModel* table = page.tableModel();
    QAbstractItemModelTester tester(table, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QCOMPARE(table->rowCount(), 1);
    QVERIFY(table->columnCount() > 5);
    QCOMPARE(table->headerData(0, Qt::Horizontal).toString(), QStringLiteral("Config"));
    QCOMPARE(table->index(0, 0).data().toString(), QStringLiteral("b4"));
  }

  void oneConfigurationShowsPerScheduleBars() {
    const QString path = dir_.filePath(QStringLiteral("one.sqlite"));
    const qint64 run = storeValidation(path, {4});
    SweepPage page;
    QVERIFY(page.setRun(path, run));
    QVERIFY(page.showsPerScheduleView());
    QVERIFY(page.heatNote().contains(QStringLiteral("One configuration")));
    const QList<QAbstractSeries*> series = page.perScheduleChart()->series();
    QCOMPARE(series.size(), 1);
    auto* bars = qobject_cast<QBarSeries*>(series.front());
    QVERIFY(bars);
    QCOMPARE(bars->count(), 2);  // measured, predicted
    const QBarSet* measured = bars->barSets()[0];
    const QBarSet* predicted = bars->barSets()[1];
    QCOMPARE(measured->label(), QStringLiteral("measured"));
    QCOMPARE(measured->count(), kSchedules.size());
    for (int s = 0; s < kSchedules.size(); ++s) {
      QCOMPARE(measured->at(s), measuredMs(0, s));
      QCOMPARE(predicted->at(s), predictedMs(0, s));
    }
    QVERIFY(page.perScheduleChart()->title().contains(QStringLiteral("measured best S2")));
  }

  void fewConfigurationsMakeAMap() {
    const QString path = dir_.filePath(QStringLiteral("three.sqlite"));
    const qint64 run = storeValidation(path, {2, 4, 8});
    SweepPage page;
    QVERIFY(page.setRun(path, run));
    QVERIFY(!page.showsPerScheduleView());
    const HeatMap& map = page.heatMapWidget()->heatMap();
    // One varied parameter: it is the x axis, y a fixed one (one row), never the same parameter twice.
    QCOMPARE(map.xParam, QStringLiteral("batch"));
    QVERIFY(map.yParam != map.xParam && !map.yParam.isEmpty());
    QCOMPARE(map.xs, (QList<double>{2, 4, 8}));
    QCOMPARE(map.ys.size(), 1);
    for (const HeatCell& c : map.cells[0]) {
      QCOMPARE(c.total, 1);
      QCOMPARE(c.schedule, QStringLiteral("B_DS"));
    }
    QCOMPARE(page.tableModel()->rowCount(), 3);
  }

  // With PARM_SCREENSHOT_DIR set: the page on PARM_SCREENSHOT_DB's latest validation run (else a 3-config
  // one), every tab grabbed to sweep-<tab>.png, for a person to look at.
  void screenshot() {
    const QString dir = qEnvironmentVariable("PARM_SCREENSHOT_DIR");
    if (dir.isEmpty()) QSKIP("PARM_SCREENSHOT_DIR not set");
    if (qEnvironmentVariableIsSet("PARM_SCREENSHOT_DARK")) useDarkPalette();
    QString path = qEnvironmentVariable("PARM_SCREENSHOT_DB");
    qint64 run = 0;
    if (path.isEmpty()) {
      path = dir_.filePath(QStringLiteral("shot.sqlite"));
      run = storeValidation(path, {2, 4, 8});
    } else {
      const auto latest =
          db::latest_run_of_kind(db::Database::open(path.toStdString(), false), "validation", true);
      QVERIFY(latest);
      run = *latest;
    }
    SweepPage page;
    page.resize(1400, 900);
    page.show();
    QVERIFY(page.setRun(path, run));
    auto* tabs = page.findChild<QTabWidget*>();
    QVERIFY(tabs);
    for (int i = 0; i < tabs->count(); ++i) {
      tabs->setCurrentIndex(i);
      QTest::qWait(200);
      QVERIFY(page.grab().save(QDir(dir).filePath(QStringLiteral("sweep-%1.png").arg(i))));
    }
  }
};

QTEST_MAIN(TestAppSweepPage)
#include "test_app_sweep_page.moc"
