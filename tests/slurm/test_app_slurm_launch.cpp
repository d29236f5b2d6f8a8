// The launch panel's "Slurm cluster" target against the real single-host Slurm and its login host (issue 20):
// a run submitted from the panel over ssh (`parm run --slurm --remote`) shows the job's state while it waits
// and runs, ends COMPLETED, and its run appears in the open project; the same with sbatch on this machine.
#include <QAbstractItemModelTester>
#include <QFile>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "app/launch/launch_panel.h"
#include "app/launch/project.h"
#include "app/models/run_list_model.h"

using namespace parm::app;

namespace {

constexpr const char* kConfig = R"({"name": "gui-slurm",
  "layer": {"batch": 1, "seq_len": 16, "hidden": 16, "ffn_hidden": 32, "num_experts": 4, "top_k": 1},
  "parallel": {"ranks": 2, "gpus_per_node": 2, "mp": 1, "esp": 1},
  "run": {"schedules": ["B_DS", "S1"], "warmup": 0, "iterations": 1}})";

}  // namespace

class TestAppSlurmLaunch : public QObject {
  Q_OBJECT

  QString slurm_dir_;
  QTemporaryDir project_dir_;

  // Submits from a panel on an open project and waits for the job's end; returns the states it showed.
  QStringList submit(const SlurmTarget& target, Project& project, QList<qint64>& appeared) {
    LaunchPanel panel(PARM_EXE);
    panel.setProject(&project);
    panel.setConfigText(kConfig);
    panel.setTarget(LaunchTarget::Slurm);
    panel.setSlurmTarget(target);
    panel.setStoreInProject(true);
    connect(&panel, &LaunchPanel::runAppeared, this, [&](qint64 id) { appeared << id; });
    QSignalSpy states(&panel, &LaunchPanel::slurmJobChanged);
    QSignalSpy finished(&panel, &LaunchPanel::finished);
    if (!panel.start()) return {"not started: " + panel.statusText()};
    if (!QTest::qWaitFor([&] { return finished.count() == 1; }, 150000))
      return {"no end: " + panel.logText()};
    QStringList out;
    for (const auto& s : states) out << s.at(0).toString();
    if (!finished.first().at(0).toBool()) out << "failed: " + panel.logText();
    return out;
  }

 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QVERIFY(project_dir_.isValid());
    slurm_dir_ = qEnvironmentVariable("PARM_TEST_SLURM_DIR");
    QVERIFY2(!slurm_dir_.isEmpty(), "PARM_TEST_SLURM_DIR is set by CTest (the slurm_host fixture)");
    QFile why(slurm_dir_ + "/unavailable");
    if (why.open(QIODevice::ReadOnly))
      QSKIP(qPrintable("no Slurm here: " + QString::fromUtf8(why.readAll()).trimmed()));
    // The panel's parm (and its sbatch, its ssh) see this suite's Slurm and login host, as a user's would
    // see theirs through their environment and ~/.ssh/config.
    qputenv("SLURM_CONF", (slurm_dir_ + "/slurm.conf").toUtf8());
    qputenv("PATH", (slurm_dir_ + "/login/bin:" + qEnvironmentVariable("PATH")).toUtf8());
    qputenv("OMPI_MCA_mpi_yield_when_idle", "1");  // the job's ranks share two cores with the daemons
  }

  void fromTheLoginHostTheRunOpens() {
    QFile why(slurm_dir_ + "/login/unavailable");
    if (why.open(QIODevice::ReadOnly))
      QSKIP(qPrintable("no login host: " + QString::fromUtf8(why.readAll()).trimmed()));
    Project project;
    QAbstractItemModelTester tester(project.runs(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QVERIFY(project.create(project_dir_.filePath("remote.parm")));
    QList<qint64> appeared;
    const QStringList states = submit({"parm-login", QString(), QString(), "5", PARM_EXE}, project, appeared);
    const QString all = states.join(" | ");
    QVERIFY2(!states.isEmpty() && states.front().contains("SUBMITTED"), qPrintable(all));
    QVERIFY2(all.contains("PENDING") || all.contains("RUNNING"), qPrintable(all));
    QVERIFY2(states.back().contains(": COMPLETED on "), qPrintable(all));
    QCOMPARE(project.runs()->rowCount(), 1);
    QCOMPARE(appeared.count(), 1);
    QCOMPARE(appeared.first(), project.runs()->row(0)->id);
  }

  void fromThisMachine() {
    Project project;
    QVERIFY(project.create(project_dir_.filePath("local.parm")));
    QList<qint64> appeared;
    const QStringList states = submit({QString(), QString(), QString(), "5", QString()}, project, appeared);
    QVERIFY2(!states.isEmpty() && states.back().contains(": COMPLETED on "), qPrintable(states.join(" | ")));
    QCOMPARE(project.runs()->rowCount(), 1);
    QCOMPARE(appeared.count(), 1);
  }
};

QTEST_MAIN(TestAppSlurmLaunch)
#include "test_app_slurm_launch.moc"
