// The main window on real data: a project made by a quick 2-rank calibration and `parm validate --db` (every
// schedule measured and predicted). Opening it shows the latest run in the timeline, comparison and sweep;
// selecting the validation report in the Runs dock shows the run it measured; a corrupt or foreign file, a
// missing run and a failing `parm` each give one line in the message bar and leave the open project as it
// was; a run launched through the window appears and is shown; screenshots; the layout is restored.
#include <sqlite3.h>

#include <QAbstractItemModelTester>
#include <QAction>
#include <QFile>
#include <QImage>
#include <QProcess>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>
#include <nlohmann/json.hpp>

#include "app/calibration/calibration_fits_model.h"
#include "app/calibration/calibration_page.h"
#include "app/compare/comparison_model.h"
#include "app/compare/comparison_page.h"
#include "app/compare/run_diff_model.h"
#include "app/compare/run_diff_page.h"
#include "app/compare/sweep_model.h"
#include "app/compare/sweep_page.h"
#include "app/config_page.h"
#include "app/launch/launch_panel.h"
#include "app/launch/project.h"
#include "app/main_window.h"
#include "app/models/run_list_model.h"
#include "app/timeline/timeline_data.h"
#include "app/timeline/timeline_view.h"
#include "app/timeline/timeline_widget.h"

using namespace parm::app;

namespace {

const char* kConfig = R"({"name":"c2","layer":{"batch":2,"seq_len":64,"hidden":64,"ffn_hidden":256,
 "num_experts":4,"top_k":2},"parallel":{"ranks":2,"gpus_per_node":2,"mp":1,"esp":1},
 "run":{"warmup":1,"iterations":3}})";

QByteArray runParm(const QStringList& args, const QString& cwd) {
  QProcess p;
  p.setWorkingDirectory(cwd);
  p.start(QStringLiteral(PARM_EXE), args);
  if (!p.waitForFinished(180000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
    p.kill();
    qFatal("parm %s failed:\n%s", qPrintable(args.join(' ')), p.readAllStandardError().constData());
  }
  return p.readAllStandardOutput();
}

QByteArray readAll(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

bool oneLine(const QString& s) {
  return !s.isEmpty() && !s.contains(QLatin1Char('\n'));
}

}  // namespace

class TestAppMainWindow : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString db_, cfg_;
  qint64 validationRun_ = 0, measuredRun_ = 0;
  QStringList measuredSchedules_;

  QString path(const char* name) const { return dir_.filePath(QString::fromLatin1(name)); }

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);  // QSettings (layout, recent files) away from the user's
    QSettings().clear();
    QVERIFY(dir_.isValid());
    cfg_ = path("c2.json");
    QFile f(cfg_);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(kConfig);
    f.close();
    db_ = path("project.sqlite");
    runParm({"calibrate", cfg_, "--quick", "--out", path("cal.json")}, dir_.path());
    const auto report = nlohmann::json::parse(
        runParm({"validate", cfg_, "--ranks", "2", "--calibration", path("cal.json"), "--db", db_, "--json"},
                dir_.path()));
    validationRun_ = report["run"].get<qint64>();
    measuredRun_ = report["layers"][0]["measured_run"].get<qint64>();
    for (const auto& s : report["layers"][0]["schedules"])
      measuredSchedules_ << QString::fromStdString(s["schedule"].get<std::string>());
    QVERIFY(measuredRun_ > 0 && validationRun_ > measuredRun_);
    QVERIFY(measuredSchedules_.size() >= 2);
  }

  void openingAProjectShowsItsLatestRun() {
    MainWindow w(PARM_EXE);
    QAbstractItemModelTester tester(w.project()->runs(),
                                    QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(w.openProject(db_));
    QCOMPARE(w.tabs()->count(), 5);  // Configure, Timeline, Compare, Sweep, Calibration
    // The latest complete run is the validation report; the views show the run it measured.
    QCOMPARE(w.currentRun(), validationRun_);
    QTRY_VERIFY_WITH_TIMEOUT(!w.isLoading(), 30000);  // the pages load after the timeline's worker
    QCOMPARE(w.comparison()->runId(), measuredRun_);
    QCOMPARE(w.runsView()->selectionModel()->selectedRows().size(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(!w.timeline()->isLoading(), 30000);
    const TimelineData* data = w.timeline()->timelineData();
    QVERIFY(data);
    QCOMPARE(data->runId(), measuredRun_);
    QCOMPARE(data->ranks(), 2);
    QVERIFY(!data->predicted().empty());  // validate stored its predictions against the measured run
    QVERIFY(!data->measured().empty());
    QCOMPARE(w.comparison()->comparisonModel()->schedules(), measuredSchedules_);
    QTRY_VERIFY_WITH_TIMEOUT(!w.comparison()->recommendationPending(), 30000);  // computed on a worker
    QVERIFY(!w.comparison()->recommendedSchedule().isEmpty());
    QVERIFY(measuredSchedules_.contains(w.comparison()->recommendedSchedule()));
    QVERIFY2(w.messages().isEmpty(), qPrintable(w.messages().join(" | ")));  // names a failed page first
    QCOMPARE(w.sweep()->validationModel()->rowCount(), 1);                   // one configuration validated
    QCOMPARE(w.sweep()->validationModel()->rows().front().measured.size(), measuredSchedules_.size());
    QVERIFY2(w.messages().isEmpty(), qPrintable(w.messages().join(" | ")));
    QVERIFY(w.windowTitle().contains("project.sqlite"));
    // The verdict is shown on opening: measured (never mixed with predicted) in the status bar.
    QTRY_VERIFY_WITH_TIMEOUT(!w.verdictText().isEmpty(), 30000);
    QVERIFY2(w.verdictText().startsWith("Measured"), qPrintable(w.verdictText()));
    QVERIFY2(w.verdictText().contains("predicted best"), qPrintable(w.verdictText()));
  }

  void aCalibrationRunShowsItsFitsNotAnEmptyTimeline() {
    const QString db = path("calibration.sqlite");
    runParm({"calibrate", cfg_, "--quick", "--db", db}, dir_.path());
    MainWindow w(PARM_EXE);
    QVERIFY(w.openProject(db));
    QCOMPARE(w.project()->runs()->rowCount(), 1);
    const qint64 id = w.project()->runs()->row(0)->id;
    QVERIFY(w.selectRun(id));
    QCOMPARE(w.tabs()->currentIndex(), int(MainWindow::CalibrationTab));
    QVERIFY(!w.tabs()->isTabEnabled(MainWindow::TimelinePage));  // no 0-1.1 ns ruler of nothing
    QVERIFY(!w.tabs()->isTabEnabled(MainWindow::ComparePage));
    QTRY_VERIFY_WITH_TIMEOUT(!w.isLoading(), 30000);
    QCOMPARE(w.calibration()->runId(), id);
    QVERIFY(w.calibration()->fitsModel()->rowCount() > 0);
    QVERIFY2(w.messages().isEmpty(), qPrintable(w.messages().join(" | ")));
    // A measured run afterwards brings the timeline and the comparison back.
    runParm({"run", cfg_, "--ranks", "2", "--db", db}, dir_.path());
    w.project()->refresh();
    QTRY_COMPARE_WITH_TIMEOUT(w.project()->runs()->rowCount(), 2, 10000);
    QVERIFY(w.selectRun(w.project()->runs()->row(1)->id));
    QVERIFY(w.tabs()->isTabEnabled(MainWindow::TimelinePage));
    QVERIFY(w.tabs()->isTabEnabled(MainWindow::ComparePage));
    QTRY_VERIFY_WITH_TIMEOUT(!w.isLoading(), 30000);
  }

  void aBreakdownBarSelectsItsOpsInTheTimeline() {
    MainWindow w(PARM_EXE);
    QVERIFY(w.openProject(db_));
    QTRY_VERIFY_WITH_TIMEOUT(!w.isLoading(), 30000);
    const QString schedule = measuredSchedules_.front();
    // A click on a bar's compute segment (the chart emits this): the timeline selects that schedule's
    // compute ops and comes to the front.
    emit w.comparison()->breakdownSegmentActivated(schedule, 0, false);
    QCOMPARE(w.tabs()->currentIndex(), int(MainWindow::TimelinePage));
    const QString said = w.statusBar()->currentMessage();
    const int count = said.section(' ', 0, 0).toInt();
    QVERIFY2(count > 0 && said.contains(" ops of " + schedule + " selected (compute)"), qPrintable(said));
    // The same predicate through the timeline's own API gives the same count: the message tells the truth.
    QCOMPARE(
        w.timeline()->selectOps(schedule, [](const TimelineEvent& e) { return e.lane != 1 && e.lane != 2; }),
        count);
  }

  void compareTwoRunsOpensWithThePreviousMeasuredRun() {
    const QString db = path("diff.sqlite");
    runParm({"run", cfg_, "--ranks", "2", "--db", db}, dir_.path());
    MainWindow w(PARM_EXE);
    QVERIFY(w.openProject(db));
    QTRY_VERIFY_WITH_TIMEOUT(!w.isLoading(), 30000);
    auto* action = w.findChild<QAction*>("runDiffAction");
    QVERIFY(action);
    action->trigger();  // one measured run: nothing to compare with, said once, no dialog
    QVERIFY(!w.runDiff());
    QVERIFY2(w.message().contains("no measured run before it"), qPrintable(w.message()));
    runParm({"run", cfg_, "--ranks", "2", "--db", db}, dir_.path());
    w.project()->refresh();
    QTRY_COMPARE_WITH_TIMEOUT(w.project()->runs()->rowCount(), 2, 10000);
    const qint64 first = w.project()->runs()->row(0)->id, second = w.project()->runs()->row(1)->id;
    QVERIFY(w.selectRun(second));
    QTRY_VERIFY_WITH_TIMEOUT(!w.isLoading(), 30000);
    action->trigger();
    QVERIFY(w.runDiff());
    QCOMPARE(w.runDiff()->beforeRun(), first);
    QCOMPARE(w.runDiff()->afterRun(), second);
    QTRY_VERIFY_WITH_TIMEOUT(w.runDiff()->scheduleModel()->rowCount() > 0, 30000);
  }

  void selectingARunInTheDockShowsIt() {
    MainWindow w(PARM_EXE);
    QVERIFY(w.openProject(db_));
    QTRY_VERIFY_WITH_TIMEOUT(!w.timeline()->isLoading(), 30000);
    const int row = w.project()->runs()->rowOfRun(measuredRun_);
    QVERIFY(row >= 0);
    w.runsView()->selectRow(row);  // the user's click
    QCOMPARE(w.currentRun(), measuredRun_);
    QTRY_VERIFY_WITH_TIMEOUT(!w.isLoading(), 30000);
    QCOMPARE(w.comparison()->runId(), measuredRun_);
    QCOMPARE(w.timeline()->timelineData()->runId(), measuredRun_);
    // A run that does not exist: one line, nothing shown changes to garbage, no crash.
    QVERIFY(!w.selectRun(999999));
    QVERIFY(oneLine(w.message()));
    QVERIFY2(w.message().contains("999999"), qPrintable(w.message()));
  }

  void badFilesGiveAMessageAndKeepTheOpenProject() {
    MainWindow w(PARM_EXE);
    QVERIFY(w.openProject(db_));
    const QString corrupt = path("corrupt.sqlite");
    {
      QFile f(corrupt);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write(QByteArray("this is not a database, just text that happens to be long enough").repeated(100));
    }
    const QByteArray corruptBytes = readAll(corrupt);
    QVERIFY(!w.openProject(corrupt));
    QVERIFY2(oneLine(w.message()) && w.message().contains("corrupt.sqlite"), qPrintable(w.message()));
    QCOMPARE(readAll(corrupt), corruptBytes);  // never modified
    QCOMPARE(w.project()->path(), QFileInfo(db_).absoluteFilePath());

    const QString foreign = path("foreign.sqlite");
    sqlite3* handle = nullptr;
    QCOMPARE(sqlite3_open(foreign.toUtf8().constData(), &handle), SQLITE_OK);
    QCOMPARE(
        sqlite3_exec(handle,
                     "CREATE TABLE invoices(id INTEGER, total REAL); INSERT INTO invoices VALUES(1, 2.5);",
                     nullptr, nullptr, nullptr),
        SQLITE_OK);
    sqlite3_close(handle);
    const QByteArray foreignBytes = readAll(foreign);
    QVERIFY(!w.openProject(foreign));
    QVERIFY2(oneLine(w.message()) && w.message().contains("foreign.sqlite"), qPrintable(w.message()));
    QCOMPARE(readAll(foreign), foreignBytes);
    QCOMPARE(w.project()->path(), QFileInfo(db_).absoluteFilePath());
    QVERIFY(w.currentRun() != 0);
  }

  void aFailingParmGivesAMessage() {
    // A `parm` that fails the way a broken installation does: a message on stderr and a non-zero exit.
    const QString fake = path("fake-parm.sh");
    {
      QFile f(fake);
      QVERIFY(f.open(QIODevice::WriteOnly));
      f.write("#!/bin/sh\necho 'parm: MPI_Init failed: no btl available' >&2\nexit 2\n");
    }
    QVERIFY(QFile::setPermissions(fake, QFile::permissions(fake) | QFileDevice::ExeOwner));
    MainWindow w(fake);
    w.launchPanel()->setAction(ParmAction::Check);
    QVERIFY(w.launchPanel()->start());
    QTRY_VERIFY_WITH_TIMEOUT(!w.launchPanel()->isRunning(), 20000);
    QVERIFY2(w.message().contains("MPI_Init failed"), qPrintable(w.message()));
    QVERIFY(oneLine(w.message()));
  }

  void aRunLaunchedFromTheWindowAppearsAndIsShown() {
    const QString db = path("launch.sqlite");
    MainWindow w(PARM_EXE);
    QVERIFY(w.openProject(db, true));
    QCOMPARE(w.project()->runs()->rowCount(), 0);
    w.configPage()->setConfigText(QString::fromLatin1(kConfig));
    QVERIFY(w.configPage()->isValid());
    w.launchPanel()->setAction(ParmAction::Run);
    w.launchPanel()->setStoreInProject(true);
    QVERIFY(w.launchPanel()->commandLine().contains("--db"));
    QVERIFY(w.launchPanel()->start());
    QTRY_VERIFY_WITH_TIMEOUT(!w.launchPanel()->isRunning(), 180000);
    QVERIFY2(w.messages().isEmpty(), qPrintable(w.messages().join(" | ")));
    QCOMPARE(w.project()->runs()->rowCount(), 1);
    const qint64 id = w.project()->runs()->row(0)->id;
    QCOMPARE(w.currentRun(), id);
    QCOMPARE(w.tabs()->currentIndex(), int(MainWindow::TimelinePage));
    QTRY_VERIFY_WITH_TIMEOUT(!w.timeline()->isLoading(), 30000);
    QCOMPARE(w.timeline()->timelineData()->runId(), id);
    QVERIFY(!w.timeline()->timelineData()->measured().empty());
  }

  void screenshotsOfEveryPage() {
    MainWindow w(PARM_EXE);
    w.resize(1400, 860);
    QVERIFY(w.openProject(db_));
    QTRY_VERIFY_WITH_TIMEOUT(!w.timeline()->isLoading(), 30000);
    const QString shots = path("shots");
    QCOMPARE(w.saveScreenshots(shots), QString());
    for (const char* page :
         {"configure", "timeline", "timeline-selection", "comparison", "sweep", "calibration"}) {
      const QImage image(QDir(shots).filePath(QString::fromLatin1(page) + ".png"));
      QVERIFY2(!image.isNull(), page);
      QCOMPARE(image.size(), w.size());
    }
    // The selection shot differs from the plain timeline (the range tint and its statistics), and the
    // window is left as it was: no range selected.
    QVERIFY(QImage(QDir(shots).filePath("timeline.png")) !=
            QImage(QDir(shots).filePath("timeline-selection.png")));
    QVERIFY(!w.timeline()->view()->selection());
  }

  void viewMenuMirrorsTheTimelineToolbar() {
    MainWindow w(PARM_EXE);
    auto* side = w.findChild<QAction*>("sideBySideAction");
    auto* flows = w.findChild<QAction*>("flowsAction");
    QVERIFY(side && flows);
    QCOMPARE(side->isChecked(), w.timeline()->sideBySide());
    QCOMPARE(flows->isChecked(), w.timeline()->flowsVisible());
    w.timeline()->setSideBySide(!side->isChecked());  // as the toolbar's combo does
    QCOMPARE(side->isChecked(), w.timeline()->sideBySide());
    flows->trigger();  // the menu drives the toolbar
    QCOMPARE(w.timeline()->flowsVisible(), flows->isChecked());
    w.timeline()->setFlowsVisible(!flows->isChecked());
    QCOMPARE(flows->isChecked(), w.timeline()->flowsVisible());
  }

  void theLayoutIsRestored() {
    {
      MainWindow w(PARM_EXE);
      w.tabs()->setCurrentIndex(MainWindow::ComparePage);
      w.resize(1234, 777);
      w.show();
      QVERIFY(QTest::qWaitForWindowExposed(&w));
      w.close();
    }
    MainWindow again(PARM_EXE);
    // No page forces a window wider than the size the user left (the timeline's toolbar wraps and elides).
    QVERIFY2(again.timeline()->minimumSizeHint().width() <= 900,
             qPrintable(QString::number(again.timeline()->minimumSizeHint().width())));
    QCOMPARE(again.tabs()->currentIndex(), int(MainWindow::ComparePage));
    QCOMPARE(again.size(), QSize(1234, 777));
  }
};

QTEST_MAIN(TestAppMainWindow)
#include "test_app_main_window.moc"
