// The main window's shell without a real `parm` run (projects written through db::Database): a 200k-event
// run loads behind a window that keeps answering, with progress in the status bar; the Runs dock comes back
// from the View menu; the message bar never moves the page; Configure follows the selected run unless the
// user has unsaved edits; the launch takes its ranks and its validity from the form; a failed launch's error
// is shown once; the Help menu and its shortcut sheet; the dark theme.
#include <QAction>
#include <QDockWidget>
#include <QFile>
#include <QLabel>
#include <QMenuBar>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabBar>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include "app/app_theme.h"
#include "app/config_page.h"
#include "app/launch/launch_panel.h"
#include "app/launch/nsys_import.h"
#include "app/launch/project.h"
#include "app/main_window.h"
#include "app/message_bar.h"
#include "app/models/run_list_model.h"
#include "app/shortcut_sheet.h"
#include "app/timeline/timeline_data.h"
#include "app/timeline/timeline_widget.h"
#include "db/database.h"

using namespace parm::app;

namespace {

QString configJson(const QString& name, int ranks) {
  return QStringLiteral(
             R"({"name":"%1","layer":{"batch":2,"seq_len":64,"hidden":64,"ffn_hidden":256,"num_experts":4,)"
             R"("top_k":2},"parallel":{"ranks":%2,"gpus_per_node":2,"mp":1,"esp":1},)"
             R"("run":{"warmup":1,"iterations":3}})")
      .arg(name)
      .arg(ranks);
}

// A measured run of `events` events (4 ranks x 2 lanes, schedules B_DS and S1) whose configuration is
// `config`.
std::int64_t writeRun(parm::db::Database& db, long events, const QString& config) {
  parm::db::RunInfo info;
  info.name = "shell";
  info.kind = "measured";
  info.backend = "cpu";
  info.ranks = 4;
  info.config_json = config.toStdString();
  const std::int64_t run = db.begin_run(info);
  const std::int32_t schedules[2] = {db.intern("B_DS"), db.intern("S1")};
  const std::int32_t ops[2] = {db.intern("experts"), db.intern("AlltoAll")};
  const std::int32_t dash = db.intern("-"), ep = db.intern("EP"), purpose = db.intern("dispatch");
  const long perRow = std::max(2L, events / 8);
  std::vector<parm::db::EventRow> batch;
  for (int r = 0; r < 4; ++r)
    for (int lane = 0; lane < 2; ++lane) {
      batch.clear();
      std::int64_t t = 0;
      for (long k = 0; k < perRow; ++k) {
        parm::db::EventRow e;
        e.rank = r;
        e.lane = lane;
        e.schedule = schedules[k >= perRow / 2 ? 1 : 0];
        e.iteration = static_cast<std::int32_t>((k % (perRow / 2)) / 100);
        e.op = ops[lane];
        e.group = lane == 0 ? dash : ep;
        e.purpose = purpose;
        e.comm = lane == 0 ? -1 : 0;
        e.bytes = lane == 0 ? 0 : 4096;
        e.seq = lane == 0 ? -1 : k;
        e.start_ns = t += 100;
        e.end_ns = t += 1000;
        batch.push_back(e);
      }
      db.add_events(run, batch);
    }
  db.finish_run(run);
  return run;
}

QString fakeParm(const QTemporaryDir& dir, const QByteArray& body) {
  const QString path = dir.filePath("fake-parm.sh");
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) return {};
  f.write("#!/bin/sh\n" + body);
  f.close();
  QFile::setPermissions(path, QFile::permissions(path) | QFileDevice::ExeOwner);
  return path;
}

}  // namespace

class TestAppWindowShell : public QObject {
  Q_OBJECT
  QTemporaryDir dir_;

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("ParmStudioTest");
    QCoreApplication::setApplicationName("test_app_window_shell");
    QSettings().clear();
    QVERIFY(dir_.isValid());
  }

  void theWindowAnswersWhileABigRunLoads() {
    const QString path = dir_.filePath("big.sqlite");
    {
      auto db = parm::db::Database::open(path.toStdString(), true);
      writeRun(db, 200000, configJson("big", 4));
    }
    MainWindow w;
    w.resize(1200, 800);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    QSignalSpy progress(w.timeline(), &TimelineWidget::loadProgress);
    QSignalSpy loading(&w, &MainWindow::loadingChanged);
    QVERIFY(w.openProject(path));  // returns before the events are read
    QVERIFY(w.isLoading());
    auto* bar = w.statusBar()->findChild<QProgressBar*>("loadProgress");
    QVERIFY(bar && bar->isVisible());
    bool fired = false, loadingWhenFired = false;
    QTimer::singleShot(1, &w, [&] {
      fired = true;
      loadingWhenFired = w.isLoading() && w.timeline()->isLoading();
    });
    QTRY_VERIFY_WITH_TIMEOUT(fired, 5000);
    QVERIFY2(loadingWhenFired, "the GUI thread was blocked until the load ended");
    QTRY_VERIFY_WITH_TIMEOUT(!w.isLoading(), 60000);
    QVERIFY(!bar->isVisible());
    QVERIFY(progress.count() >= 2);  // every 16384 events, and at the end
    QCOMPARE(progress.last().at(0).toLongLong(), progress.last().at(1).toLongLong());
    QCOMPARE(loading.count(), 2);  // true, then false
    QCOMPARE(w.timeline()->timelineData()->measured().size(), std::size_t{200000});
    QVERIFY2(w.messages().isEmpty(), qPrintable(w.messages().join(" | ")));
  }

  void theRunsDockIsInTheViewMenu() {
    MainWindow w;
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    auto* action = w.findChild<QAction*>("runsDockAction");
    QVERIFY(action);
    QVERIFY(!action->shortcut().isEmpty());
    bool inView = false;
    for (QAction* top : w.menuBar()->actions())
      if (top->menu() && top->text().remove(u'&') == "View") inView = top->menu()->actions().contains(action);
    QVERIFY(inView);
    w.runsDock()->close();
    QVERIFY(!w.runsDock()->isVisible());
    QVERIFY(!action->isChecked());
    action->trigger();
    QVERIFY(w.runsDock()->isVisible());
  }

  void theMessageBarDoesNotMoveThePage() {
    MainWindow w;
    w.resize(1200, 800);
    w.show();
    QVERIFY(QTest::qWaitForWindowExposed(&w));
    w.tabs()->setCurrentIndex(MainWindow::ConfigurePage);
    QWidget* page = w.tabs()->currentWidget();
    QWidget* field = w.configPage()->fieldEditor("parallel.ranks");
    QVERIFY(field);
    QApplication::processEvents();
    const QRect tabs = w.tabs()->geometry(), pageRect = page->geometry();
    const QPoint fieldAt = field->mapTo(&w, QPoint(0, 0));
    w.showMessage(QStringLiteral("a message long enough to be noticed, and then some more words"));
    QApplication::processEvents();
    QVERIFY(w.messageBar()->isVisible());
    QVERIFY(w.messageBar()->height() > 10);
    QCOMPARE(w.tabs()->geometry(), tabs);
    QCOMPARE(page->geometry(), pageRect);
    QCOMPARE(field->mapTo(&w, QPoint(0, 0)), fieldAt);
    // Laid over the pages, under the tab bar (the tabs stay clickable).
    QVERIFY(w.messageBar()->geometry().top() >= w.tabs()->tabBar()->geometry().bottom());
    w.messageBar()->dismiss();
    QVERIFY(w.message().isEmpty());
    QCOMPARE(page->geometry(), pageRect);
  }

  void configureFollowsTheSelectedRun() {
    const QString path = dir_.filePath("configs.sqlite");
    std::int64_t first = 0, second = 0;
    {
      auto db = parm::db::Database::open(path.toStdString(), true);
      first = writeRun(db, 100, configJson("first-run", 2));
      second = writeRun(db, 100, configJson("second-run", 4));
    }
    MainWindow w;
    QVERIFY(w.openProject(path));  // shows the latest run, and its configuration
    QCOMPARE(w.currentRun(), qint64(second));
    QVERIFY2(w.configPage()->configText().contains("second-run"), qPrintable(w.configPage()->configText()));
    QCOMPARE(w.configPage()->parsedConfig()->parallel.ranks, 4);
    QVERIFY(!w.configPage()->hasUnsavedEdits());
    QVERIFY(w.selectRun(first));
    QVERIFY(w.configPage()->configText().contains("first-run"));
    // An edit in the form: selecting another run keeps it and says so, asking nothing.
    auto* ranks = qobject_cast<QSpinBox*>(w.configPage()->fieldEditor("parallel.ranks"));
    QVERIFY(ranks);
    ranks->setValue(8);
    QVERIFY(w.configPage()->hasUnsavedEdits());
    QVERIFY(w.selectRun(second));
    QVERIFY(w.configPage()->configText().contains("first-run"));
    QVERIFY(w.configPage()->configText().contains("8"));
    QVERIFY2(w.statusBar()->currentMessage().contains("unsaved"),
             qPrintable(w.statusBar()->currentMessage()));
    QTRY_VERIFY_WITH_TIMEOUT(!w.isLoading(), 30000);
  }

  void theLaunchRunsWhatTheFormHolds() {
    MainWindow w;
    w.configPage()->setConfigText(configJson("four", 4));
    QCOMPARE(w.launchPanel()->configRanks(), 4);
    QVERIFY2(w.launchPanel()->commandLine().contains(" --ranks 4"),
             qPrintable(w.launchPanel()->commandLine()));
    auto* ranksLabel = w.launchPanel()->findChild<QLabel*>("ranks");
    QVERIFY(ranksLabel && ranksLabel->text().startsWith("4"));
    // The form's ranks are the launch's: an edit there is what Start launches.
    qobject_cast<QSpinBox*>(w.configPage()->fieldEditor("parallel.ranks"))->setValue(2);
    w.configPage()->revalidate();
    QVERIFY2(w.launchPanel()->commandLine().contains(" --ranks 2"),
             qPrintable(w.launchPanel()->commandLine()));
    auto* start = w.launchPanel()->findChild<QPushButton*>("start");
    QVERIFY(start->isEnabled());
    // Errors in the form: Start is disabled and says why.
    w.configPage()->setConfigText(R"({"parallel": {"ranks": 4, "mp": 3}})");
    QVERIFY(!w.configPage()->isValid());
    QVERIFY(!start->isEnabled());
    QVERIFY2(start->toolTip().contains("parallel.mp"), qPrintable(start->toolTip()));
    QVERIFY(!w.launchPanel()->start());
    QVERIFY(!w.launchPanel()->isRunning());
    w.configPage()->setConfigText(configJson("again", 2));
    QVERIFY(start->isEnabled());
  }

  void aFailedLaunchSaysItOnce() {
    QTemporaryDir dir;
    const QString fake = fakeParm(dir, "echo 'parm: MPI_Init failed: no btl available' >&2\nexit 2\n");
    MainWindow w(fake);
    w.launchPanel()->setAction(ParmAction::Check);
    QSignalSpy finished(w.launchPanel(), &LaunchPanel::finished);
    QVERIFY(w.launchPanel()->start());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
    QCOMPARE(w.launchPanel()->logText().count("MPI_Init failed"), 1);
    QCOMPARE(w.messages().size(), 1);
    QVERIFY(w.messages().front().contains("MPI_Init failed"));
    QVERIFY(w.launchPanel()->statusText().contains("MPI_Init failed"));
  }

  void importingAnNsightExportSelectsTheRun() {
    const QString path = dir_.filePath("import.sqlite");
    parm::db::Database::open(path.toStdString(), true);  // an empty project
    MainWindow w(PARM_EXE);
    QVERIFY(w.findChild<QAction*>("importNsysAction"));
    QVERIFY(w.openProject(path));
    QSignalSpy finished(w.nsysImport(), &NsysImport::finished);
    QVERIFY(w.importNsysExport(QStringLiteral(PARM_NSYS_FIXTURE)));  // tests/fuzz/corpus: two GPUs, kernels
    QVERIFY(w.nsysImport()->isRunning());
    QVERIFY(!w.statusBar()->findChild<QProgressBar*>("importProgress")->isHidden());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
    QVERIFY2(finished.first().at(0).toBool(), qPrintable(finished.first().at(1).toString()));
    const qint64 run = finished.first().at(2).toLongLong();
    QVERIFY(run > 0);
    QCOMPARE(w.currentRun(), run);
    QCOMPARE(w.tabs()->currentIndex(), int(MainWindow::TimelinePage));
    QCOMPARE(QString::fromStdString(w.project()->database()->run(run)->kind), QString("nsys-import"));
    QVERIFY(w.statusBar()->findChild<QProgressBar*>("importProgress")->isHidden());
    QTRY_VERIFY_WITH_TIMEOUT(!w.isLoading(), 30000);
    QVERIFY(!w.timeline()->timelineData()->measured().empty());

    // Not an export: parm's one line in the message bar, the project as it was.
    const QString bogus = dir_.filePath("not-an-export.sqlite");
    QFile f(bogus);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("this is not SQLite\n");
    f.close();
    const int before = w.project()->runs()->rowCount();
    finished.clear();
    w.importNsysExport(bogus);
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
    QCOMPARE(finished.first().at(0).toBool(), false);
    QVERIFY2(w.message().contains("not-an-export.sqlite") && !w.message().contains('\n'),
             qPrintable(w.message()));
    QCOMPARE(w.project()->runs()->rowCount(), before);
    QCOMPARE(w.currentRun(), run);
  }

  void theHelpMenuListsEveryShortcut() {
    MainWindow w;
    auto* keys = w.findChild<QAction*>("shortcutsAction");
    QVERIFY(keys);
    QVERIFY(keys->shortcuts().contains(QKeySequence(Qt::Key_F1)));
    QVERIFY(keys->shortcuts().contains(QKeySequence(Qt::Key_Question)));
    const ShortcutSheet sheet(w.menuBar());
    QStringList lines;
    for (const auto& [k, what] : sheet.entries()) lines << k + " = " + what;
    const QString all = lines.join('\n');
    QVERIFY2(all.contains(QKeySequence(QKeySequence::Open).toString(QKeySequence::NativeText) +
                          " = File > Open project"),
             qPrintable(all));
    QVERIFY2(all.contains("View > Runs list"), qPrintable(all));
    QVERIFY2(all.contains("Help > Keyboard shortcuts"), qPrintable(all));
    for (const char* k : {"W / S", "A / D", "Esc", "Wheel", "Shift+left drag"})
      QVERIFY2(all.contains(QLatin1String(k)), k);
    QStringList helpItems;
    for (QAction* top : w.menuBar()->actions())
      if (top->menu() && top->text().remove(u'&') == "Help")
        for (QAction* a : top->menu()->actions()) helpItems << a->text().remove(u'&');
    QCOMPARE(helpItems, (QStringList{"Keyboard shortcuts", "Documentation", "About Parm Studio"}));
  }

  void theDarkThemeIsAppliedAndRemembered() {
    MainWindow w;
    auto* dark = w.findChild<QAction*>("theme-dark");
    QVERIFY(dark);
    dark->trigger();
    QApplication::processEvents();  // the widgets take the application palette from posted events
    QCOMPARE(currentTheme(), Theme::Dark);
    QCOMPARE(savedTheme(), Theme::Dark);
    QVERIFY(QApplication::palette().color(QPalette::Window).lightness() < 128);
    QVERIFY(QApplication::palette().color(QPalette::WindowText).lightness() > 160);
    w.showMessage("dark message");
    const QPalette p = w.messageBar()->palette();
    QVERIFY(p.color(QPalette::Window).lightness() < 128);  // no light-pink bar on a dark window
    QVERIFY(p.color(QPalette::WindowText).lightness() - p.color(QPalette::Window).lightness() > 100);
    w.findChild<QAction*>("theme-system")->trigger();
    QCOMPARE(savedTheme(), Theme::System);
    QVERIFY(QApplication::palette().color(QPalette::Window).lightness() >= 128);
  }
};

QTEST_MAIN(TestAppWindowShell)
#include "test_app_window_shell.moc"
