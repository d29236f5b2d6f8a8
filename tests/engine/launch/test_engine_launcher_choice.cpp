// Who starts the ranks (issue 20): auto takes srun inside a Slurm allocation and mpirun elsewhere, srun's
// command line, what excludes it, and the rank srun's own error lines blame.
#include <QtTest>
#include <map>
#include <string>

#include "engine/launch/launcher.h"
#include "engine/launch/launcher_choice.h"

using namespace parm;

namespace {

EnvLookup fake_env(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// An allocation as srun sees it: SRUN and MPIEXEC name the binaries (taken as given, not searched).
const std::map<std::string, std::string> kAllocation = {
    {"SLURM_JOB_ID", "42"}, {"SRUN", "/usr/bin/srun-site"}, {"MPIEXEC", "/usr/bin/mpirun-site"}};

}  // namespace

class TestLauncherChoice : public QObject {
  Q_OBJECT
 private slots:
  void autoTakesSrunInsideAnAllocation() {
    const LauncherChoice in = choose_launcher(LauncherRequest::Auto, fake_env(kAllocation), false, false);
    QVERIFY(in.error.empty());
    QCOMPARE(in.launcher, Launcher::Srun);
    QCOMPARE(in.binary, std::string("/usr/bin/srun-site"));

    auto outside = kAllocation;
    outside.erase("SLURM_JOB_ID");
    const LauncherChoice out = choose_launcher(LauncherRequest::Auto, fake_env(outside), false, false);
    QCOMPARE(out.launcher, Launcher::Mpirun);
    QCOMPARE(out.binary, std::string("/usr/bin/mpirun-site"));

    // A hostfile or an emulated cluster places the ranks itself: auto keeps mpirun with them.
    QCOMPARE(choose_launcher(LauncherRequest::Auto, fake_env(kAllocation), true, false).launcher,
             Launcher::Mpirun);
    QCOMPARE(choose_launcher(LauncherRequest::Auto, fake_env(kAllocation), false, true).launcher,
             Launcher::Mpirun);
    // No srun anywhere: auto stays with mpirun even inside an allocation.
    const LauncherChoice none = choose_launcher(
        LauncherRequest::Auto,
        fake_env({{"SLURM_JOB_ID", "42"}, {"PATH", "/nonexistent"}, {"MPIEXEC", "/usr/bin/mpirun"}}), false,
        false);
    QCOMPARE(none.launcher, Launcher::Mpirun);
  }

  void explicitRequestsAndWhatExcludesSrun() {
    QCOMPARE(choose_launcher(LauncherRequest::Mpirun, fake_env(kAllocation), false, false).launcher,
             Launcher::Mpirun);
    const LauncherChoice hostfile =
        choose_launcher(LauncherRequest::Srun, fake_env(kAllocation), true, false);
    QVERIFY2(hostfile.error.find("--hostfile") != std::string::npos, hostfile.error.c_str());
    const LauncherChoice cluster = choose_launcher(LauncherRequest::Srun, fake_env(kAllocation), true, true);
    QVERIFY2(cluster.error.find("--cluster") != std::string::npos, cluster.error.c_str());
    const LauncherChoice missing =
        choose_launcher(LauncherRequest::Srun, fake_env({{"PATH", "/nonexistent"}}), false, false);
    QVERIFY(missing.missing);
    QVERIFY2(missing.error.find("srun not found") != std::string::npos, missing.error.c_str());
    QVERIFY(parse_launcher("srun") && parse_launcher("auto") && parse_launcher("mpirun"));
    QVERIFY(!parse_launcher("SRUN"));
  }

  // srun --mpi=pmix over the allocation: more ranks than CPUs allowed, one failure ends the step, the
  // environment (OPENBLAS_NUM_THREADS, the launcher watch) passed on; no mpirun-only options.
  void srunCommandLine() {
    LaunchOptions o;
    o.launcher = Launcher::Srun;
    o.mpiexec = "/usr/bin/srun";
    o.ranks = 4;
    o.parm_exe = "/opt/parm/bin/parm";
    o.config_path = "/shared/run/config.json";
    o.result_path = "/shared/run/result.json";
    o.verify = true;
    const LaunchCommand c = build_launch_command(o, fake_env({}), true);
    const std::vector<std::string> expected = {"/usr/bin/srun",
                                               "--mpi=pmix",
                                               "--ntasks",
                                               "4",
                                               "--overcommit",
                                               "--kill-on-bad-exit=1",
                                               "--export=ALL",
                                               "/opt/parm/bin/parm",
                                               "worker",
                                               "--config",
                                               "/shared/run/config.json",
                                               "--result",
                                               "/shared/run/result.json",
                                               "--verify"};
    QCOMPARE(c.argv, expected);
    bool blas = false;
    for (const auto& [name, value] : c.env) {
      QVERIFY2(name.rfind("OMPI_MCA_", 0) != 0, name.c_str());  // transports are the allocation's business
      blas = blas || (name == "OPENBLAS_NUM_THREADS" && value == "1");
    }
    QVERIFY(blas);
  }

  void srunErrorLinesNameTheTask_data() {
    QTest::addColumn<QString>("output");
    QTest::addColumn<int>("rank");
    QTest::newRow("killed task")
        << "srun: error: node7: task 2: Killed\nsrun: error: node7: tasks 0-1,3: Terminated\n"
        << 2;
    QTest::newRow("exit code") << "srun: error: c12: task 1: Exited with exit code 3\n" << 1;
    QTest::newRow("a peer's complaint is not the cause")
        << "parm worker: rank 0: AlltoAll on EP failed\nsrun: error: n1: task 3: Killed\n"
        << 3;
    QTest::newRow("the plural line alone blames nobody") << "srun: error: n1: tasks 0-3: Killed\n" << -1;
  }
  void srunErrorLinesNameTheTask() {
    QFETCH(QString, output);
    QFETCH(int, rank);
    std::vector<std::string> lines;
    for (const QString& l : output.split('\n')) lines.push_back(l.toStdString());
    QCOMPARE(find_failed_rank(lines).value_or(-1), rank);
  }

  // A step whose tasks never launched (seen on the test Slurm: a PMIx folder left behind): srun said why and
  // exited 0; the line is what `parm run` names instead of only "no result".
  void launcherErrorLineIsFound() {
    const std::vector<std::string> lines = {
        "srun: launch/slurm: launch_p_step_launch: StepId=5.0 aborted before step completely launched.",
        "srun: Job step aborted: Waiting up to 4 seconds for job step to finish.",
        "srun: error: task 0 launch failed: Unspecified error",
        "srun: error: task 1 launch failed: Unspecified error"};
    QCOMPARE(launcher_error_line(lines), std::string("srun: error: task 0 launch failed: Unspecified error"));
    QCOMPARE(launcher_error_line({"parm worker: rank 0: S1 done", "[2/5] B_DS"}), std::string());
  }
};

QTEST_APPLESS_MAIN(TestLauncherChoice)
#include "test_engine_launcher_choice.moc"
