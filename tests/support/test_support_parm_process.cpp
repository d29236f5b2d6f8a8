// The shared run-a-program helper itself: exit code and both streams, extra environment, working folder,
// stdin closed (or fed), a crash and a timeout told apart, and the `parm` of this build found.
#include <QTemporaryDir>
#include <QtTest>

#include "tests/support/parm_process.h"

using parm_test::ProcessOptions;
using parm_test::run_program;

class TestSupportParmProcess : public QObject {
  Q_OBJECT
 private slots:
  void exitCodeAndBothStreams() {
    const auto r = run_program("/bin/sh", {"-c", "echo out; echo err >&2; exit 3"});
    QCOMPARE(r.exit_code, 3);
    QCOMPARE(r.out, QByteArray("out\n"));
    QCOMPARE(r.err, QByteArray("err\n"));
    QVERIFY(!r.crashed && !r.timed_out);
  }

  void environmentAndWorkingFolder() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const auto r =
        run_program("/bin/sh", {"-c", "echo \"$PARM_TEST_VALUE\"; pwd -P"},
                    {.working_directory = dir.path(), .environment = {{"PARM_TEST_VALUE", "x y"}}});
    QCOMPARE(r.exit_code, 0);
    const QString real = QFileInfo(dir.path()).canonicalFilePath();
    QCOMPARE(QString::fromUtf8(r.out), "x y\n" + real + "\n");
  }

  void defaultWorkingFolderIsTheSourceFolder() {
    const auto r = run_program("/bin/sh", {"-c", "test -f resources/presets/tc1.json"});
    QCOMPARE(r.exit_code, 0);
  }

  void stdinIsFedThenClosed() {
    QCOMPARE(run_program("/bin/cat", {}, {.stdin_data = "fed"}).out, QByteArray("fed"));
    const auto empty =
        run_program("/bin/cat", {}, {.timeout_ms = 10000});  // would wait forever on an open stdin
    QVERIFY(!empty.timed_out);
    QCOMPARE(empty.exit_code, 0);
    QVERIFY(empty.out.isEmpty());
  }

  void crashAndTimeoutAreToldApart() {
    const auto crash = run_program("/bin/sh", {"-c", "kill -SEGV $$"});
    QVERIFY(crash.crashed && !crash.timed_out);
    QCOMPARE(crash.exit_code, -1);
    const auto hang = run_program("/bin/sleep", {"30"}, {.timeout_ms = 300});
    QVERIFY(hang.timed_out && !hang.crashed);
    QCOMPARE(hang.exit_code, -2);
    QVERIFY(hang.elapsed_ms < 10000);
    const auto missing = run_program("/nonexistent/program", {});
    QVERIFY(missing.crashed);
    QVERIFY(missing.err.contains("failed to start"));
  }

  void runsTheParmOfThisBuild() {
    const auto r = parm_test::run_parm({"frobnicate"}, {.timeout_ms = 30000});
    QCOMPARE(r.exit_code, 2);
    QVERIFY2(r.err.contains("unknown subcommand"), r.err.constData());
    QCOMPARE(parm_test::output_of_success(parm_test::run_parm({"check", "tc1"})).isEmpty(), false);
  }
};

QTEST_GUILESS_MAIN(TestSupportParmProcess)
#include "test_support_parm_process.moc"
