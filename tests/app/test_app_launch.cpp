// Launching `parm` from the GUI: a short 2-rank run through the launch panel appears in the project's run
// list; failing launches end with one line in the panel; cancel stops a running parm; progress from "[i/n]"
// lines.
#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QClipboard>
#include <QGuiApplication>
#include <QLineEdit>
#include <QPushButton>
#include <QTemporaryDir>
#include <QtTest>

#include "app/launch/launch_panel.h"
#include "app/launch/parm_process.h"
#include "app/launch/project.h"
#include "app/models/run_list_model.h"

using namespace parm::app;

namespace {

// Small enough to run in about a second on 2 local ranks.
const char* kSmallConfig = R"({"name": "gui-small",
  "layer": {"batch": 1, "seq_len": 16, "hidden": 16, "ffn_hidden": 32, "num_experts": 4, "top_k": 1},
  "parallel": {"ranks": 2, "gpus_per_node": 2, "mp": 1, "esp": 1},
  "run": {"schedules": ["B_DS", "S2"], "warmup": 0, "iterations": 1}})";

// Long enough to be cancelled while it runs.
const char* kLongConfig = R"({"name": "gui-long",
  "parallel": {"ranks": 2, "gpus_per_node": 2, "mp": 1, "esp": 1},
  "run": {"warmup": 0, "iterations": 100000}})";

QString fakeParm(const QTemporaryDir& dir, const QByteArray& body) {
  const QString path = dir.filePath("fake-parm");
  QFile f(path);
  if (!f.open(QIODevice::WriteOnly)) return {};
  f.write("#!/bin/sh\n" + body);
  f.close();
  f.setPermissions(f.permissions() | QFileDevice::ExeOwner);
  return path;
}

}  // namespace

class TestLaunch : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("ParmStudioTest");
    QCoreApplication::setApplicationName("test_app_launch");
  }

  void runAppearsInTheProject() {
    QTemporaryDir dir;
    Project project;
    QAbstractItemModelTester tester(project.runs(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(project.create(dir.filePath("project.sqlite")));
    LaunchPanel panel(PARM_EXE);
    panel.setProject(&project);
    panel.setConfigText(kSmallConfig);
    panel.setAction(ParmAction::Run);  // on the configuration's 2 ranks
    panel.show();

    // The exact command line, before anything runs.
    const QString line = panel.commandLine();
    QVERIFY2(line.startsWith(shellQuote(PARM_EXE) + " run "), qPrintable(line));
    QVERIFY(line.contains(" --ranks 2 "));
    QVERIFY(line.endsWith("--db " + shellQuote(project.path())));
    QVERIFY(line.contains(shellQuote(panel.process()->configFilePath())));
    panel.findChild<QPushButton*>("copy")->click();
    QCOMPARE(QGuiApplication::clipboard()->text(), line);

    QSignalSpy finished(&panel, &LaunchPanel::finished);
    QSignalSpy appeared(&panel, &LaunchPanel::runAppeared);
    QTest::mouseClick(panel.findChild<QPushButton*>("start"), Qt::LeftButton);
    QVERIFY(panel.isRunning());
    QVERIFY(!panel.findChild<QPushButton*>("start")->isEnabled());
    QVERIFY(panel.findChild<QPushButton*>("cancel")->isEnabled());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 90000);
    QVERIFY2(finished.first().at(0).toBool(), qPrintable(panel.logText()));
    QVERIFY(panel.logText().contains("B_DS"));
    QVERIFY(panel.statusText().startsWith("parm run finished"));
    QCOMPARE(appeared.count(), 1);

    const RunListModel* runs = project.runs();
    const int row = runs->rowOfRun(appeared.first().first().toLongLong());
    QVERIFY(row >= 0);
    QCOMPARE(runs->index(row, RunListModel::KindColumn).data().toString(), QString("measured"));
    QCOMPARE(runs->index(row, RunListModel::StatusColumn).data().toString(), QString("complete"));
    QCOMPARE(runs->index(row, RunListModel::NameColumn).data().toString(), QString("gui-small"));
    QCOMPARE(runs->index(row, RunListModel::RanksColumn).data().toInt(), 2);
    QTRY_VERIFY_WITH_TIMEOUT(runs->index(row, RunListModel::EventsColumn).data().toLongLong() > 0,
                             5000);  // counted on a worker
    QVERIFY(panel.findChild<QPushButton*>("start")->isEnabled());
  }

  void bogusHostfileEndsWithOneLine() {
    QTemporaryDir dir;
    LaunchPanel panel(PARM_EXE);
    panel.setConfigText(kSmallConfig);
    panel.setTarget(LaunchTarget::Hostfile, dir.filePath("no-such-hostfile"));
    QVERIFY(panel.commandLine().contains("--hostfile"));
    QSignalSpy finished(&panel, &LaunchPanel::finished);
    QVERIFY(panel.start());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
    QCOMPARE(finished.first().at(0).toBool(), false);
    const QString status = panel.statusText();
    QVERIFY2(status.contains("--hostfile") && status.contains("no-such-hostfile"), qPrintable(status));
    QVERIFY(!status.contains('\n'));
    QVERIFY(!panel.isRunning());
  }

  void invalidConfigNamesTheFieldAndIsNotStarted() {
    LaunchPanel panel(PARM_EXE);
    panel.setConfigText(R"({"parallel": {"ranks": 4, "mp": 3}})");
    QSignalSpy finished(&panel, &LaunchPanel::finished);
    auto* start = panel.findChild<QPushButton*>("start");
    QVERIFY(!start->isEnabled());
    QVERIFY2(start->toolTip().contains("parallel.mp"), qPrintable(start->toolTip()));
    QVERIFY(!panel.start());
    QVERIFY(!panel.isRunning());
    QCOMPARE(finished.count(), 0);
    QVERIFY2(panel.statusText().contains("parallel.mp"), qPrintable(panel.statusText()));
    QVERIFY(!panel.statusText().contains('\n'));
    QCOMPARE(panel.configRanks(), 4);
  }

  void invalidCommandIsRefusedBeforeStarting() {
    LaunchPanel panel(PARM_EXE);
    panel.setAction(ParmAction::Validate);
    panel.setCalibrationFile({});
    QVERIFY(panel.commandLine().isEmpty());
    QVERIFY(panel.statusText().contains("--calibration"));
    QVERIFY(!panel.findChild<QPushButton*>("start")->isEnabled());
    QVERIFY(!panel.start());
    QVERIFY(!panel.isRunning());
  }

  // "Also select over" (issue 19): the boxes widen predict's and validate's command line and are off (and
  // not emitted) for the other actions.
  void selectionSpaceBoxes() {
    LaunchPanel panel(PARM_EXE);
    panel.setConfigText(kSmallConfig);
    panel.setAction(ParmAction::Predict);
    panel.setCalibrationFile("cal.json");
    auto* r4 = panel.findChild<QCheckBox*>("degree4");
    auto* two_dh = panel.findChild<QCheckBox*>("hierarchical");
    QVERIFY(r4 && two_dh && r4->isEnabled());
    r4->setChecked(true);
    two_dh->setChecked(true);
    QVERIFY2(panel.commandLine().contains("--degrees 1,4 --alltoall flat,2dh"),
             qPrintable(panel.commandLine()));
    panel.setAction(ParmAction::Run);
    QVERIFY(!r4->isEnabled());
    QVERIFY(!panel.commandLine().contains("--degrees"));
    QVERIFY(!panel.commandLine().contains("--alltoall"));
    QVERIFY(!panel.commandLine().isEmpty());
  }

  // The "Slurm cluster" target (issue 20): its row of fields, the command line, the job's state from parm's
  // lines while it waits and runs, and the fields remembered for the next session.
  void slurmTargetShowsTheJobState() {
    QTemporaryDir dir;
    const QString fake =
        fakeParm(dir,
                 "echo 'parm run: submitted Slurm job 41 (/p/slurm/x.sbatch)' >&2\n"
                 "echo 'parm run: Slurm job 41 PENDING (Priority)' >&2\n"
                 "sleep 0.3\n"
                 "echo 'parm run: Slurm job 41 RUNNING on node3' >&2\n"
                 "echo 'S1  12.5 ms'\n"
                 "echo 'parm run: Slurm job 41 TIMEOUT: it ran past its time limit 00:01:00' >&2\n"
                 "exit 1\n");
    LaunchPanel panel(fake);
    panel.setConfigText(kSmallConfig);
    panel.show();
    auto* row = panel.findChild<QWidget*>("slurmRow");
    QVERIFY(row && row->isHidden());
    panel.setTarget(LaunchTarget::Slurm);
    QVERIFY(!row->isHidden());
    QVERIFY(panel.findChild<QLineEdit*>("targetName")->isHidden());
    panel.setSlurmTarget({QString(), "debug", "proj42", "1", QString()});
    QVERIFY2(panel.commandLine().endsWith("--slurm --partition debug --account proj42 --time 1"),
             qPrintable(panel.commandLine()));
    panel.setAction(ParmAction::Validate);  // only run submits: refused before starting, with the reason
    QVERIFY(!panel.canStart());
    QVERIFY2(panel.statusText().contains("--slurm"), qPrintable(panel.statusText()));
    panel.setAction(ParmAction::Run);
    QSignalSpy states(&panel, &LaunchPanel::slurmJobChanged);
    QSignalSpy finished(&panel, &LaunchPanel::finished);
    QVERIFY(panel.start());
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
    QCOMPARE(states.count(), 4);
    QCOMPARE(states.at(1).at(0).toString(), QString("Slurm job 41: PENDING (Priority)"));
    QCOMPARE(states.at(2).at(0).toString(), QString("Slurm job 41: RUNNING on node3"));
    QCOMPARE(panel.slurmJobText(), QString("Slurm job 41: TIMEOUT: it ran past its time limit 00:01:00"));
    QCOMPARE(finished.first().at(0).toBool(), false);
    QVERIFY2(panel.statusText().contains("TIMEOUT"), qPrintable(panel.statusText()));
    LaunchPanel next(fake);  // the row is remembered
    next.setTarget(LaunchTarget::Slurm);
    QCOMPARE(next.findChild<QLineEdit*>("slurmPartition")->text(), QString("debug"));
    QCOMPARE(next.findChild<QLineEdit*>("slurmTime")->text(), QString("1"));
  }

  void missingExecutable() {
    LaunchPanel panel("/nonexistent/parm");
    QSignalSpy finished(&panel, &LaunchPanel::finished);
    panel.start();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
    QCOMPARE(finished.first().at(0).toBool(), false);
    QVERIFY2(panel.statusText().contains("/nonexistent/parm"), qPrintable(panel.statusText()));
  }

  void cancelStopsARun() {
    LaunchPanel panel(PARM_EXE);
    panel.setConfigText(kLongConfig);
    QSignalSpy finished(&panel, &LaunchPanel::finished);
    QVERIFY(panel.start());
    // Wait until mpirun runs the ranks, so the cancel reaches the whole launch.
    QTRY_VERIFY_WITH_TIMEOUT(panel.logText().contains("starting 2 ranks"), 30000);
    QTest::qWait(500);
    QVERIFY(panel.isRunning());
    QElapsedTimer clock;
    clock.start();
    panel.findChild<QPushButton*>("cancel")->click();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 15000);
    QVERIFY(clock.elapsed() < 10000);
    QCOMPARE(finished.first().at(0).toBool(), false);
    QVERIFY2(panel.statusText().contains("cancelled"), qPrintable(panel.statusText()));
    QVERIFY(!panel.isRunning());
  }

  void destroyingThePanelStopsTheRun() {
    auto panel = std::make_unique<LaunchPanel>(PARM_EXE);
    panel->setConfigText(kLongConfig);
    QVERIFY(panel->start());
    QTRY_VERIFY_WITH_TIMEOUT(panel->logText().contains("starting 2 ranks"), 30000);
    QElapsedTimer clock;
    clock.start();
    panel.reset();  // e.g. the window closes: parm is terminated, not left running
    QVERIFY(clock.elapsed() < 5000);
  }

  void progressAndLastErrorLine() {
    QTemporaryDir dir;
    const QString fake = fakeParm(dir,
                                  "echo 'parm validate: [1/3] a' >&2\n"
                                  "echo 'parm validate: [2/3] b' >&2\n"
                                  "printf 'partial line without newline'\n"
                                  "echo 'parm validate: mean layer error 12% exceeds --max-error 10%' >&2\n"
                                  "exit 3\n");
    ParmProcess process(fake);
    QSignalSpy progress(&process, &ParmProcess::progress);
    QSignalSpy lines(&process, &ParmProcess::outputLine);
    QSignalSpy finished(&process, &ParmProcess::finished);
    ParmCommandSpec spec;
    spec.action = ParmAction::Validate;
    spec.calibration = "cal.json";
    QVERIFY(process.start(spec, "{}"));
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
    QCOMPARE(progress.count(), 2);
    QCOMPARE(progress.at(1).at(0).toInt(), 1);
    QCOMPARE(progress.at(1).at(1).toInt(), 3);
    QCOMPARE(finished.first().at(0).toBool(), false);
    QCOMPARE(finished.first().at(1).toString(),
             QString("parm validate: mean layer error 12% exceeds --max-error 10%"));
    bool partial = false;
    for (const auto& l : lines) partial |= l.at(0).toString() == "partial line without newline";
    QVERIFY(partial);
    QFile written(process.configFilePath());
    QVERIFY(written.open(QIODevice::ReadOnly));
    QCOMPARE(written.readAll(), QByteArray("{}"));
  }

  void defaultExecutableIsNextToTheBuild() {
    // The test binary lives in build/tests/: ../engine/parm is the one built with it.
    const QString exe = ParmProcess::defaultExecutable();
    QVERIFY2(QFileInfo(exe).isExecutable() || exe == "parm", qPrintable(exe));
    QCOMPARE(QFileInfo(exe).canonicalFilePath(), QFileInfo(PARM_EXE).canonicalFilePath());
  }
};

QTEST_MAIN(TestLaunch)
#include "test_app_launch.moc"
