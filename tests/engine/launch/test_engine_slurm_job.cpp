// The pieces of a Slurm submission that need no Slurm (issue 20): the sbatch script, the option rules that
// keep it well-formed, and what scontrol and sbatch print, as Slurm 22.05 prints it.
#include <QtTest>

#include "engine/launch/slurm_job.h"

using namespace parm;
using namespace parm::slurm;

class TestSlurmJob : public QObject {
  Q_OBJECT
 private slots:
  void scriptHasOneDirectivePerSettingAndExecsTheStep() {
    JobRequest r;
    r.job_name = "parm-tc1";
    r.ranks = 8;
    r.nodes = 2;
    r.tasks_per_node = 4;
    r.gpus_per_node = 4;
    r.partition = "gpu";
    r.time_limit = "1:00:00";
    r.out_path = "/p/slurm/x-%j.out";
    r.err_path = "/p/slurm/x-%j.err";
    r.command = {"/opt/parm", "run", "/p/slurm/my config.json", "--launcher", "srun"};
    const QString s = QString::fromStdString(sbatch_script(r, "made by a test"));
    QVERIFY(s.startsWith("#!/bin/bash\n"));
    for (const char* line :
         {"#SBATCH --ntasks=8\n", "#SBATCH --nodes=2\n", "#SBATCH --ntasks-per-node=4\n",
          "#SBATCH --gpus-per-node=4\n", "#SBATCH --partition=gpu\n", "#SBATCH --time=1:00:00\n",
          "#SBATCH --output=/p/slurm/x-%j.out\n", "# made by a test\n"})
      QVERIFY2(s.contains(line), line);
    QVERIFY(!s.contains("--account") && !s.contains("--overcommit") && !s.contains("--gpus-per-task"));
    QVERIFY(s.endsWith("exec /opt/parm run '/p/slurm/my config.json' --launcher srun\n"));
    // Every directive precedes the first command (sbatch stops reading them there).
    QVERIFY(s.lastIndexOf("#SBATCH") < s.indexOf("set -euo"));
  }

  void optionRules() {
    for (const char* ok : {"30", "30:15", "1:00:00", "2-0", "2-12:30", "2-12:30:00"})
      QVERIFY2(valid_time_limit(ok), ok);
    for (const char* bad : {"", "1:2:3:4", "1h", "-5", "1:00:00\n#SBATCH --x", "2-"})
      QVERIFY2(!valid_time_limit(bad), bad);
    QVERIFY(valid_slurm_name("gpu-a100_x.2"));
    for (const char* bad : {"", "a b", "a;b", "a\n#SBATCH", "$(x)"}) QVERIFY2(!valid_slurm_name(bad), bad);
  }

  void scontrolLines() {
    const auto pending = parse_scontrol_job(
        "JobId=5 JobName=wrap UserId=root(0) JobState=PENDING Reason=Resources Dependency=(null) "
        "ExitCode=0:0 "
        "RunTime=00:00:00 TimeLimit=UNLIMITED NodeList= NumNodes=1");
    QVERIFY(pending);
    QCOMPARE(pending->state, std::string("PENDING"));
    QCOMPARE(pending->reason, std::string("Resources"));
    QVERIFY(!is_finished(pending->state));
    const auto failed = parse_scontrol_job(
        "JobId=7 JobState=FAILED Reason=NonZeroExitCode ExitCode=3:0 TimeLimit=00:01:00 NodeList=vm");
    QVERIFY(failed);
    QCOMPARE(failed->exit_code, 3);
    QCOMPARE(failed->nodes, std::string("vm"));
    QCOMPARE(failed->time_limit, std::string("00:01:00"));
    QVERIFY(is_finished(failed->state));
    const auto cancelled = parse_scontrol_job("JobId=8 JobState=CANCELLED Reason=None ExitCode=0:15");
    QCOMPARE(cancelled->exit_signal, 15);
    for (const char* s : {"COMPLETED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED"})
      QVERIFY(is_finished(s));
    for (const char* s : {"RUNNING", "COMPLETING", "CONFIGURING", "SUSPENDED"}) QVERIFY(!is_finished(s));
    QVERIFY(!parse_scontrol_job("slurm_load_jobs error: Invalid job id specified"));
  }

  void sbatchJobId() {
    QCOMPARE(parse_job_id("12\n"), std::optional<std::string>("12"));
    QCOMPARE(parse_job_id("sbatch: warning: something\n42;cluster\n"), std::optional<std::string>("42"));
    QVERIFY(!parse_job_id("sbatch: error: invalid partition specified: x\n"));
  }
};

QTEST_APPLESS_MAIN(TestSlurmJob)
#include "test_engine_slurm_job.moc"
