// The mpirun command line `parm run` builds, its dry-run text, and the supervisor that runs it.
#include <signal.h>

#include <QElapsedTimer>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "engine/launch/launcher.h"
#include "engine/launch/process_watch.h"
#include "engine/launch/run_folder.h"

using namespace parm;

namespace {

EnvLookup fake_env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

LaunchOptions options() {
  LaunchOptions o;
  o.ranks = 4;
  o.mpiexec = "/usr/bin/mpirun";
  o.parm_exe = "/opt/parm/bin/parm";
  o.config_path = "/tmp/run/config.json";
  o.result_path = "/tmp/run/result.json";
  return o;
}

// Index of `word` in argv, -1 when absent.
int index_of(const std::vector<std::string>& argv, const std::string& word) {
  const auto it = std::find(argv.begin(), argv.end(), word);
  return it == argv.end() ? -1 : int(it - argv.begin());
}

std::optional<std::string> env_value(const LaunchCommand& c, const std::string& name) {
  for (const auto& [n, v] : c.env)
    if (n == name) return v;
  return std::nullopt;
}

}  // namespace

class TestLauncher : public QObject {
  Q_OBJECT
 private slots:
  void localRunArgv() {
    const LaunchCommand c = build_launch_command(options(), fake_env({}), false);
    const std::vector<std::string> expected = {"/usr/bin/mpirun",
                                               "-np",
                                               "4",
                                               "-x",
                                               "OPENBLAS_NUM_THREADS",
                                               "/opt/parm/bin/parm",
                                               "worker",
                                               "--config",
                                               "/tmp/run/config.json",
                                               "--result",
                                               "/tmp/run/result.json"};
    QCOMPARE(c.argv, expected);
    QCOMPARE(env_value(c, "OPENBLAS_NUM_THREADS"), std::optional<std::string>("1"));
    QCOMPARE(env_value(c, "OMPI_MCA_rmaps_base_oversubscribe"), std::optional<std::string>("1"));
    QCOMPARE(env_value(c, "OMPI_MCA_pml"), std::optional<std::string>("ob1"));
    QCOMPARE(env_value(c, "OMPI_MCA_btl"), std::optional<std::string>("self,vader"));
    QVERIFY(!env_value(c, "OMPI_ALLOW_RUN_AS_ROOT"));  // not root
  }

  void rootGetsTheOpenMpiConsent() {
    const LaunchCommand c = build_launch_command(options(), fake_env({}), true);
    QCOMPARE(env_value(c, "OMPI_ALLOW_RUN_AS_ROOT"), std::optional<std::string>("1"));
    QCOMPARE(env_value(c, "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"), std::optional<std::string>("1"));
  }

  void userEnvironmentWins() {
    const LaunchCommand c = build_launch_command(
        options(), fake_env({{"OPENBLAS_NUM_THREADS", "4"}, {"OMPI_MCA_btl", "self,tcp"}}), true);
    QVERIFY(!env_value(c, "OPENBLAS_NUM_THREADS"));
    QVERIFY(!env_value(c, "OMPI_MCA_btl"));
    QVERIFY(index_of(c.argv, "OPENBLAS_NUM_THREADS") > 0);  // still forwarded with -x
  }

  void hostfileRunLeavesTransportToTheCluster() {
    LaunchOptions o = options();
    o.hostfile = "/home/me/hosts";
    const LaunchCommand c = build_launch_command(o, fake_env({}), false);
    const int h = index_of(c.argv, "--hostfile");
    QVERIFY(h > 0);
    QCOMPARE(c.argv[h + 1], std::string("/home/me/hosts"));
    QVERIFY(h < index_of(c.argv, "worker"));
    QVERIFY(!env_value(c, "OMPI_MCA_btl"));
    QVERIFY(!env_value(c, "OMPI_MCA_pml"));
    QVERIFY(!env_value(c, "OMPI_MCA_rmaps_base_oversubscribe"));
  }

  void workerOptionsPassThrough() {
    LaunchOptions o = options();
    o.schedules = {ScheduleKind::B_DS, ScheduleKind::S1F};
    o.timeout_ms = 500;
    o.verify = true;
    o.die_on_rank = 1;
    const LaunchCommand c = build_launch_command(o, fake_env({}), false);
    const std::vector<std::string> tail(c.argv.begin() + index_of(c.argv, "worker"), c.argv.end());
    const std::vector<std::string> expected = {
        "worker",        "--config", "/tmp/run/config.json", "--result", "/tmp/run/result.json",
        "--schedules",   "B_DS,S1F", "--timeout-ms",         "500",      "--verify",
        "--die-on-rank", "1"};
    QCOMPARE(tail, expected);
  }

  void mpiexecFromEnvironmentOrPath() {
    QCOMPARE(find_mpiexec(fake_env({{"MPIEXEC", "/site/bin/mpiexec"}, {"PATH", "/usr/bin"}})),
             std::string("/site/bin/mpiexec"));
    QCOMPARE(find_mpiexec(fake_env({{"PATH", "/nonexistent"}})), std::string());
  }

  void dryRunTextQuotes() {
    QCOMPARE(shell_quote("plain/path-1.json"), std::string("plain/path-1.json"));
    QCOMPARE(shell_quote(""), std::string("''"));
    QCOMPARE(shell_quote("my dir/c.json"), std::string("'my dir/c.json'"));
    QCOMPARE(shell_quote("it's"), std::string("'it'\\''s'"));

    LaunchOptions o = options();
    o.config_path = "/tmp/my runs/config.json";
    const std::string line = shell_line(build_launch_command(o, fake_env({}), true));
    QVERIFY2(line.rfind("OPENBLAS_NUM_THREADS=1 ", 0) == 0, line.c_str());  // assignments first
    QVERIFY2(line.find("OMPI_MCA_btl=self,vader ") != std::string::npos, line.c_str());
    QVERIFY2(line.find(" /usr/bin/mpirun -np 4 ") != std::string::npos, line.c_str());
    QVERIFY2(line.find(" --config '/tmp/my runs/config.json' ") != std::string::npos, line.c_str());
  }

  void failedRankFromOutput_data() {
    QTest::addColumn<QString>("output");
    QTest::addColumn<int>("rank");
    QTest::newRow("worker line") << "noise\nparm worker: rank 2: collective timed out\n" << 2;
    QTest::newRow("open mpi signal")
        << "mpirun noticed that process rank 1 with PID 4242 on node n01 exited on signal 9 (Killed).\n"
        << 1;
    QTest::newRow("signal beats a peer's complaint")
        << "parm worker: rank 0: AlltoAll on EP timed out\n"
           "mpirun noticed that process rank 3 with PID 7 on node n02 exited on signal 6 (Aborted).\n"
        << 3;
    QTest::newRow("mpi abort") << "MPI_ABORT was invoked on rank 5 in communicator MPI_COMM_WORLD\n" << 5;
    QTest::newRow("exit status") << "Process name: [[4711,1],1]\n  Exit code:    2\n" << 1;
    QTest::newRow("none") << "something else went wrong\n" << -1;
    QTest::newRow("the rank that did not answer, not the one that noticed")
        << "parm worker: rank 0: AlltoAll on group EP (world ranks 0,1) did not complete: rank 1 did not "
           "answer "
           "within --timeout-ms 500\n"
           "MPI_ABORT was invoked on rank 0 in communicator MPI_COMM_WORLD\n"
        << 1;
  }

  void failedRankFromOutput() {
    QFETCH(QString, output);
    QFETCH(int, rank);
    std::vector<std::string> lines;
    for (const QString& l : output.split('\n')) lines.push_back(l.toStdString());
    const auto found = find_failed_rank(lines);
    QCOMPARE(found.value_or(-1), rank);
  }

  void runReportsExitCodeAndRank() {
    LaunchCommand c;
    c.env = {{"PARM_TEST_VALUE", "seen"}};
    c.argv = {"/bin/sh", "-c",
              "test \"$PARM_TEST_VALUE\" = seen || exit 9; "
              "echo 'parm worker: rank 3: boom.' >&2; exit 3"};
    const LaunchOutcome out = run_launch(c, std::chrono::seconds(20));
    QCOMPARE(out.exit_code, 3);
    QVERIFY(!out.timed_out);
    QVERIFY(!out.tail.empty());
    const std::string line = failure_line(out);
    QVERIFY2(line.rfind("parm run: rank 3 died (boom", 0) == 0, line.c_str());

    c.argv = {"/bin/sh", "-c", "exit 4"};
    QCOMPARE(failure_line(run_launch(c, std::chrono::seconds(20))),
             std::string("parm run: worker failed with exit code 4"));
    c.argv = {"/bin/sh", "-c", "exit 0"};
    QCOMPARE(run_launch(c, std::chrono::seconds(20)).exit_code, 0);
  }

  void unansweredRankLine() {
    LaunchOutcome out;
    out.exit_code = 3;
    out.tail = {
        "parm worker: rank 0: Barrier on group world (world ranks 0,1,2,3) did not complete: rank 2 did "
        "not answer within --timeout-ms 800 (nor did rank 3)",
        "MPI_ABORT was invoked on rank 0 in communicator MPI_COMM_WORLD"};
    const auto blamed = blame_failed_rank(out.tail);
    QVERIFY(blamed && blamed->unresponsive);
    QCOMPARE(blamed->noticed_by, 0);
    QCOMPARE(failure_line(out, "parm calibrate"),
             std::string(
                 "parm calibrate: rank 2 did not answer within --timeout-ms 800 (nor did rank 3) (noticed by "
                 "rank 0 in Barrier on group world (world ranks 0,1,2,3); exit code 3)"));
    QCOMPARE(failure_exit_code(out), 1);
  }

  // A signal to us while the launcher runs: passed on, then one line and 130 / 143.
  void signalEndsTheRunWithItsCode_data() {
    QTest::addColumn<int>("sig");
    QTest::addColumn<QString>("line");
    QTest::addColumn<int>("code");
    QTest::newRow("SIGINT") << int(SIGINT) << "parm run: interrupted" << 130;
    QTest::newRow("SIGTERM") << int(SIGTERM) << "parm run: terminated" << 143;
  }

  void signalEndsTheRunWithItsCode() {
    QFETCH(int, sig);
    QFETCH(QString, line);
    QFETCH(int, code);
    LaunchCommand c;
    c.argv = {"/bin/sh", "-c", "kill -" + std::to_string(sig) + " $PPID; sleep 30"};
    QElapsedTimer t;
    t.start();
    const LaunchOutcome out = run_launch(c, std::chrono::seconds(60));
    QVERIFY2(t.elapsed() < 10'000, qPrintable(QString::number(t.elapsed())));
    QCOMPARE(out.signal, sig);
    QCOMPARE(QString::fromStdString(failure_line(out)), line);
    QCOMPARE(failure_exit_code(out), code);
  }

  // The launcher tells its workers who it is, so they can watch it.
  void launcherNamesItself() {
    LaunchCommand c;
    c.argv = {"/bin/sh", "-c", "echo \"launcher=$PARM_LAUNCHER\""};
    const LaunchOutcome out = run_launch(c, std::chrono::seconds(20));
    QCOMPARE(out.exit_code, 0);
    QVERIFY(!out.tail.empty());
    const std::string text = out.tail.back().substr(std::string("launcher=").size());
    const auto id = decode_identity(text);
    QVERIFY2(id, text.c_str());
    QCOMPARE(id->pid, ::getpid());
    QCOMPARE(process_alive(*id), std::optional<bool>(true));
  }

  void identityRoundTrip() {
    const ProcessIdentity me = self_identity();
    QVERIFY(me.start_ticks > 0);
    const auto back = decode_identity(encode(me));
    QVERIFY(back);
    QCOMPARE(back->host, me.host);
    QCOMPARE(back->pid, me.pid);
    QCOMPARE(back->start_ticks, me.start_ticks);
    ProcessIdentity reused = me;
    reused.start_ticks += 1;  // same pid, another process: gone
    QCOMPARE(process_alive(reused), std::optional<bool>(false));
    ProcessIdentity elsewhere = me;
    elsewhere.host += ".elsewhere";
    QCOMPARE(process_alive(elsewhere), std::optional<bool>());
    for (const char* bad : {"", "host", "host:12", "host:x:1", ":1:2", "host:0:5", "host:12:"})
      QVERIFY2(!decode_identity(bad), bad);
  }

  // A run's processes are found by the folder their command line names, whatever their process group.
  void processesOfARunAreFound() {
    QTemporaryDir dir;
    const std::string needle = dir.path().toStdString() + "/parm-run-test";
    QProcess p;
    p.start("/bin/sh", {"-c", "read x", QString::fromStdString(needle)});  // a builtin: no child of its own
    QVERIFY(p.waitForStarted());
    std::error_code ec;
    const std::string sh =
        std::filesystem::read_symlink("/proc/" + std::to_string(p.processId()) + "/exe", ec).string();
    QVERIFY(!ec);
    QElapsedTimer t;
    t.start();
    while (processes_mentioning(needle, sh).empty() && t.elapsed() < 5000) QThread::msleep(20);
    QCOMPARE(processes_mentioning(needle, sh), std::vector<pid_t>{static_cast<pid_t>(p.processId())});
    QVERIFY(processes_mentioning(needle, "/nonexistent/exe").empty());
    QCOMPARE(signal_processes_mentioning(needle, sh, SIGKILL), 1);
    QVERIFY(p.waitForFinished(5000));
    QVERIFY(processes_mentioning(needle, sh).empty());
  }

  // A run folder goes with its owner; the folders of an owner that is gone are swept at the next start,
  // those of a live owner, of no recorded owner, or kept for the user are left alone.
  void runFoldersAreSweptWhenTheirOwnerIsGone() {
    QTemporaryDir parent;
    const std::filesystem::path root = parent.path().toStdString();
    const auto make = [&](const std::string& name, const std::optional<ProcessIdentity>& owner) {
      std::filesystem::create_directory(root / name);
      std::ofstream(root / name / "config.json") << "{}";
      if (owner) std::ofstream(root / name / ".owner") << encode(*owner) << '\n';
    };
    ProcessIdentity gone = self_identity();
    gone.start_ticks += 1;
    make("parm-run-gone01", gone);
    make("parm-run-alive1", self_identity());
    make("parm-run-nobody", std::nullopt);
    make("other-gone0001", gone);  // not our prefix
    std::filesystem::path kept;
    {
      RunFolder mine(root, "parm-run");  // sweeps on creation
      QVERIFY(std::filesystem::exists(mine.path() / ".owner"));
      RunFolder user(root, "parm-run");
      user.keep();
      kept = user.path();
      QVERIFY(!std::filesystem::exists(root / "parm-run-gone01"));
      QVERIFY(std::filesystem::exists(root / "parm-run-alive1"));
      QVERIFY(std::filesystem::exists(root / "parm-run-nobody"));
      QVERIFY(std::filesystem::exists(root / "other-gone0001"));
      QVERIFY(std::filesystem::is_directory(mine.path()));
      std::filesystem::remove_all(root / "parm-run-alive1");
    }
    QVERIFY(std::filesystem::is_directory(kept));
    QVERIFY(!std::filesystem::exists(kept / ".owner"));
    QCOMPARE(sweep_stale_run_folders(root, "parm-run"), 0);
    int left = 0;
    for (const auto& e : std::filesystem::directory_iterator(root)) left += e.is_directory() ? 1 : 0;
    QCOMPARE(left, 3);  // kept, nobody, other
  }

  void deadlineKillsTheGroup() {
    LaunchCommand c;
    c.argv = {"/bin/sh", "-c", "sleep 30 & sleep 30; wait"};  // a grandchild too
    QElapsedTimer t;
    t.start();
    const LaunchOutcome out = run_launch(c, std::chrono::milliseconds(300));
    QVERIFY(out.timed_out);
    QVERIFY(out.exit_code != 0);
    QVERIFY2(t.elapsed() < 10'000, qPrintable(QString::number(t.elapsed())));
    QVERIFY(failure_line(out).find("deadline") != std::string::npos);
  }

  void missingLauncherThrows() {
    LaunchCommand c;
    c.argv = {"/nonexistent/mpirun", "-np", "2"};
    bool threw = false;
    try {
      run_launch(c, std::chrono::seconds(5));
    } catch (const std::runtime_error&) {
      threw = true;
    }
    QVERIFY(threw);
  }
};

QTEST_GUILESS_MAIN(TestLauncher)
#include "test_engine_launcher.moc"
