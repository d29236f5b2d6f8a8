// The `parm` command lines the launch panel builds: local, emulated cluster and hostfile targets, the flags
// each subcommand really has, and shell quoting for the copyable line.
#include <QtTest>

#include "app/launch/parm_command.h"

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
