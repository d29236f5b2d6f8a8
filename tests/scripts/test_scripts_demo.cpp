// The quick start's scripts as far as a test can check them without running the whole demo: demo.sh,
// demo_cluster.sh and bench/demo_stability.sh parse; as root, the cleanup of demo_cluster.sh takes an
// already-up emulated cluster down (nothing of it left), and a script killed mid-command (SIGTERM while its
// parm command runs) takes its cluster down at once, not after the command. Not root: those two are skipped.
#include <unistd.h>

#include <QDir>
#include <QElapsedTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QtTest>

#include "tests/support/emulated_cluster.h"
#include "tests/support/parm_process.h"

namespace {

using parm_test::ProcessResult;

// Fixed per process, so two runs never share a cluster; a letter first and at most 12 characters.
QString cluster_name() {
  return QString("tdemo%1").arg(::getpid() % 100000);
}

using parm_test::cluster_usable;

// A bash script that sources demo_cluster.sh with this build's parm and the test's cluster name.
QString with_demo_cluster(const QString& body) {
  return "set -euo pipefail\nsource scripts/demo_cluster.sh\n" + body;
}

QList<std::pair<QString, QString>> demo_environment() {
  return {{"PARM", parm_test::parm_executable()}, {"PARM_DEMO_CLUSTER", cluster_name()}};
}

const char* kUp =
    "\"$parm\" cluster up --nodes 2 --ranks-per-node 2 --inter-bandwidth 500mbit "
    "--name \"$demo_cluster\" >/dev/null\n";

}  // namespace

class TestScriptsDemo : public QObject {
  Q_OBJECT
 private slots:
  void scriptsParse() {
    for (const char* name : {"scripts/demo.sh", "scripts/demo_cluster.sh", "bench/demo_stability.sh"}) {
      const ProcessResult r =
          parm_test::run_program("bash", {"-n", parm_test::source_directory() + "/" + name});
      QVERIFY2(r.exit_code == 0, (QByteArray(name) + ": " + r.err).constData());
    }
  }

  void cleanupTakesAnUpClusterDown() {
    QString why;
    if (!cluster_usable(&why)) QSKIP(qPrintable(why));
    const ProcessResult r = parm_test::run_program(
        "bash",
        {"-c",
         with_demo_cluster(QString(kUp) + "\"$parm\" cluster status --name \"$demo_cluster\" >/dev/null\n"
                                          "demo_cluster_down\n")},
        {.environment = demo_environment()});
    QVERIFY2(r.exit_code == 0, (r.out + r.err).constData());
    QVERIFY2(parm_test::cluster_leftovers(cluster_name()).isEmpty(),
             qPrintable(parm_test::cluster_leftovers(cluster_name()).join(' ')));
    // Called again with nothing up, it is quiet and succeeds (the EXIT trap after a normal takedown).
    const ProcessResult again = parm_test::run_program(
        "bash", {"-c", with_demo_cluster("demo_cluster_down\n")}, {.environment = demo_environment()});
    QVERIFY2(again.exit_code == 0 && again.err.isEmpty(), again.err.constData());
  }

  void killedMidCommandTakesClusterDownAtOnce() {
    QString why;
    if (!cluster_usable(&why)) QSKIP(qPrintable(why));
    QProcess script;
    script.setWorkingDirectory(parm_test::source_directory());
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    for (const auto& [k, v] : demo_environment()) env.insert(k, v);
    script.setProcessEnvironment(env);
    // The trap is armed, the cluster is up, and a long command stands for calibrate/validate.
    script.start("bash", {"-c", with_demo_cluster("demo_cluster_arm_cleanup\n" + QString(kUp) +
                                                  "echo up\ndemo_run sleep 120\necho not-interrupted\n")});
    QVERIFY(script.waitForStarted());
    QVERIFY2(script.waitForReadyRead(60000), script.readAllStandardError().constData());
    QCOMPARE(script.readLine().trimmed(), QByteArray("up"));
    QVERIFY(parm_test::cluster_leftovers(cluster_name()).size() >= 3);  // the switch and the nodes, at least
    QTest::qWait(300);                                                  // demo_run's sleep has started
    QElapsedTimer took;
    took.start();
    script.terminate();  // SIGTERM, as `kill PID` would send
    QVERIFY2(script.waitForFinished(30000), "the script did not end within 30 s of SIGTERM");
    QVERIFY2(took.elapsed() < 30000, "the trap waited for the command");
    QCOMPARE(script.exitCode(), 143);
    QVERIFY(!script.readAllStandardOutput().contains("not-interrupted"));
    QVERIFY2(parm_test::cluster_leftovers(cluster_name()).isEmpty(),
             qPrintable(parm_test::cluster_leftovers(cluster_name()).join(' ')));
  }

  void cleanupTestCase() {
    if (::geteuid() == 0)
      parm_test::run_parm({"cluster", "down", "--name", cluster_name()});  // whatever a failed slot left
  }
};

QTEST_GUILESS_MAIN(TestScriptsDemo)
#include "test_scripts_demo.moc"
