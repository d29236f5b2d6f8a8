// The `parm` command lines the launch panel builds: local, emulated cluster, hostfile and Slurm targets, the
// flags each subcommand really has, and shell quoting for the copyable line; the Slurm job lines read back.
#include <QtTest>

#include "app/launch/parm_command.h"
#include "app/launch/slurm_job_line.h"

using namespace parm::app;

class TestParmCommand : public QObject {
  Q_OBJECT
 private slots:
  void localRun() {
    ParmCommandSpec s;
    s.action = ParmAction::Run;
    s.config = "/tmp/c.json";
    s.ranks = 4;
    s.dbPath = "/p/project.sqlite";
    const ParmCommand c = buildParmCommand(s);
    QVERIFY2(c.ok(), qPrintable(c.error));
    QCOMPARE(c.args, (QStringList{"run", "/tmp/c.json", "--ranks", "4", "--db", "/p/project.sqlite"}));
  }

  void ranksFromConfigAreNotPassed() {
    ParmCommandSpec s;
    s.config = "default";
    QCOMPARE(buildParmCommand(s).args, (QStringList{"run", "default"}));
  }

  void clusterRunAndCalibrate() {
    ParmCommandSpec s;
    s.action = ParmAction::Run;
    s.config = "c.json";
    s.ranks = 8;
    s.target = LaunchTarget::Cluster;
    s.targetName = " emu ";
    QCOMPARE(buildParmCommand(s).args, (QStringList{"run", "c.json", "--ranks", "8", "--cluster", "emu"}));
    s.action = ParmAction::Calibrate;
    s.calibration = "cal.json";
    QCOMPARE(buildParmCommand(s).args, (QStringList{"calibrate", "c.json", "--ranks", "8", "--cluster", "emu",
                                                    "--out", "cal.json", "--quick"}));
    s.targetName.clear();
    QVERIFY(buildParmCommand(s).error.contains("--cluster"));
  }

  void hostfileOnlyForRun() {
    ParmCommandSpec s;
    s.action = ParmAction::Run;
    s.config = "c.json";
    s.ranks = 32;
    s.target = LaunchTarget::Hostfile;
    s.targetName = "/etc/hosts file";
    QCOMPARE(buildParmCommand(s).args,
             (QStringList{"run", "c.json", "--ranks", "32", "--hostfile", "/etc/hosts file"}));
    s.action = ParmAction::Validate;
    s.calibration = "cal.json";
    const ParmCommand c = buildParmCommand(s);
    QVERIFY(!c.ok());
    QVERIFY(c.args.isEmpty());
    QVERIFY(c.error.startsWith("parm validate: --hostfile"));
    QVERIFY(!c.error.contains('\n'));
  }

  // Slurm (issue 20): only run submits; the fields given become flags; --remote needs the project.
  void slurmTargetSubmitsARun() {
    ParmCommandSpec s;
    s.action = ParmAction::Run;
    s.config = "c.json";
    s.ranks = 8;
    s.target = LaunchTarget::Slurm;
    QCOMPARE(buildParmCommand(s).args, (QStringList{"run", "c.json", "--ranks", "8", "--slurm"}));
    s.slurm = {QString(), " gpu ", QString(), "30", QString()};
    s.dbPath = "/shared/p.sqlite";
    QCOMPARE(buildParmCommand(s).args, (QStringList{"run", "c.json", "--ranks", "8", "--slurm", "--partition",
                                                    "gpu", "--time", "30", "--db", "/shared/p.sqlite"}));
    s.slurm.remoteParm = "/opt/parm/bin/parm";  // parm's place on a login host, without one: refused
    QVERIFY(buildParmCommand(s).error.startsWith("parm run: --remote-parm: needs a login host"));
    s.slurm = {"login1", "gpu", "proj42", "00:30:00", "/opt/parm/bin/parm"};
    QCOMPARE(buildParmCommand(s).args,
             (QStringList{"run", "c.json", "--ranks", "8", "--slurm", "--remote", "login1", "--remote-parm",
                          "/opt/parm/bin/parm", "--partition", "gpu", "--account", "proj42", "--time",
                          "00:30:00", "--db", "/shared/p.sqlite"}));
    s.dbPath.clear();  // from a desktop the run comes back through the project
    ParmCommand c = buildParmCommand(s);
    QVERIFY(c.args.isEmpty());
    QVERIFY2(c.error.startsWith("parm run: --remote: needs \"Store in the project\""), qPrintable(c.error));
    s.dbPath = "/shared/p.sqlite";
    s.slurm.account = "proj 42";
    c = buildParmCommand(s);
    QVERIFY2(c.error == "parm run: --account 'proj 42': one word, no spaces", qPrintable(c.error));
    s.slurm.account.clear();
    s.action = ParmAction::Validate;
    s.calibration = "cal.json";
    c = buildParmCommand(s);
    QVERIFY2(c.error.startsWith("parm validate: --slurm: only `parm run` submits"), qPrintable(c.error));
  }

  // The lines `parm run --slurm` prints about its job, from engine/cli/slurm_submit.cpp, as the panel reads
  // them.
  void slurmJobLines() {
    auto j = parseSlurmJobLine("parm run: submitted Slurm job 17 (/p/slurm/default-20261203-101500.sbatch)");
    QVERIFY(j);
    QCOMPARE(j->id, QString("17"));
    QCOMPARE(j->state, QString("SUBMITTED"));
    QVERIFY(!j->finished());
    j = parseSlurmJobLine("parm run: Slurm job 17 PENDING (Resources)");
    QVERIFY(j);
    QCOMPARE(j->text(), QString("Slurm job 17: PENDING (Resources)"));
    QVERIFY(!j->finished());
    j = parseSlurmJobLine("parm run: Slurm job 17 RUNNING on node7");
    QCOMPARE(j->text(), QString("Slurm job 17: RUNNING on node7"));
    j = parseSlurmJobLine("parm run: Slurm job 17 FAILED (exit code 1): rank 1 died (Killed)");
    QCOMPARE(j->state, QString("FAILED"));
    QVERIFY(j->finished());
    j = parseSlurmJobLine("parm run: Slurm job 17 TIMEOUT: it ran past its time limit 00:01:00");
    QCOMPARE(j->state, QString("TIMEOUT"));
    QCOMPARE(j->text(), QString("Slurm job 17: TIMEOUT: it ran past its time limit 00:01:00"));
    j = parseSlurmJobLine("parm run: Slurm job 17 on login1 cancelled: parm run was interrupted (SIGTERM)");
    QVERIFY(j);
    QCOMPARE(j->text(), QString("Slurm job 17: CANCELLED: parm run was interrupted (SIGTERM)"));
    QVERIFY(j->finished());
    QVERIFY(!parseSlurmJobLine("parm run: starting 4 ranks (2 x 2) with srun in Slurm job 17"));
    QVERIFY(!parseSlurmJobLine("[2/5] S1 iteration 3"));
  }

  void predictAndValidateNeedCalibration() {
    ParmCommandSpec s;
    s.action = ParmAction::Predict;
    s.config = "tc1";
    s.ranks = 4;  // predict runs no ranks: not passed
    QVERIFY(buildParmCommand(s).error.contains("--calibration"));
    s.calibration = "cal.json";
    s.dbPath = "p.sqlite";
    QCOMPARE(buildParmCommand(s).args,
             (QStringList{"predict", "tc1", "--calibration", "cal.json", "--db", "p.sqlite"}));
    s.action = ParmAction::Validate;
    s.extraArgs = {"--max-error", "10"};
    QCOMPARE(buildParmCommand(s).args, (QStringList{"validate", "tc1", "--ranks", "4", "--calibration",
                                                    "cal.json", "--db", "p.sqlite", "--max-error", "10"}));
    s.target = LaunchTarget::Cluster;
    s.action = ParmAction::Predict;
    QVERIFY(!buildParmCommand(s).ok());
  }

  // The selection space beyond Parm's (issue 19): degrees after 1 and 2DH, on predict and validate only.
  void selectionSpaceOnPredictAndValidate() {
    ParmCommandSpec s;
    s.action = ParmAction::Predict;
    s.config = "tc1";
    s.calibration = "cal.json";
    s.degrees = {4, 2, 4};
    s.hierarchical = true;
    QCOMPARE(buildParmCommand(s).args, (QStringList{"predict", "tc1", "--calibration", "cal.json",
                                                    "--degrees", "1,4,2", "--alltoall", "flat,2dh"}));
    s.degrees = {3};
    QVERIFY(buildParmCommand(s).error.startsWith("parm predict: --degrees 3"));
    s.degrees = {8};
    s.action = ParmAction::Run;
    const ParmCommand run = buildParmCommand(s);
    QVERIFY(!run.ok());
    QVERIFY2(run.error.contains("only predict and validate"), qPrintable(run.error));
  }

  void checkTakesNoDb() {
    ParmCommandSpec s;
    s.action = ParmAction::Check;
    s.config = "c.json";
    s.dbPath = "p.sqlite";
    s.ranks = 4;
    QCOMPARE(buildParmCommand(s).args, (QStringList{"check", "c.json"}));
  }

  void calibrateDefaultsAndQuick() {
    ParmCommandSpec s;
    s.action = ParmAction::Calibrate;
    s.quick = false;
    QCOMPARE(buildParmCommand(s).args, (QStringList{"calibrate", "--out", "calibration.json"}));
  }

  void shellQuoting() {
    QCOMPARE(shellQuote("/usr/bin/parm"), QString("/usr/bin/parm"));
    QCOMPARE(shellQuote("--ranks=4"), QString("--ranks=4"));
    QCOMPARE(shellQuote("my file.json"), QString("'my file.json'"));
    QCOMPARE(shellQuote("it's"), QString("'it'\\''s'"));
    QCOMPARE(shellQuote(""), QString("''"));
    QCOMPARE(shellQuote("$HOME"), QString("'$HOME'"));
    QCOMPARE(shellCommandLine("/opt/parm dir/parm", {"run", "a b.json", "--ranks", "2"}),
             QString("'/opt/parm dir/parm' run 'a b.json' --ranks 2"));
  }
};

QTEST_GUILESS_MAIN(TestParmCommand)
#include "test_app_parm_command.moc"
