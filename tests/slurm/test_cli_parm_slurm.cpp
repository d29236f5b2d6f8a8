// `parm run` on a real Slurm (issue 20): a single-host slurmctld + slurmd + munged started for this suite by
// tests/slurm/single_host_slurm.sh (a CTest fixture, torn down even when a case fails). Inside an allocation
// the ranks start with srun; --slurm writes, submits and follows a batch job and stores its run; a cancelled,
// timed-out or failed job (and an interrupted follow, a missing sbatch) each end with one line naming the job
// and its state, the documented exit code, and nothing stored as complete.
#include <signal.h>

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>

#include "tests/support/parm_process.h"

using parm_test::ProcessOptions;
using parm_test::ProcessResult;

namespace {

// A layer whose run lasts minutes: what a job is cancelled in, or runs past its time limit in. Two ranks, and
// never beside another job: on two cores the polling ranks of a running layer slowed another job's MPI start
// under srun from 5 s to 50-260 s (every collective waits for a descheduled peer), which is what made this
// suite time out.
constexpr const char* kLongConfig = R"({"name": "long",
  "layer": {"batch": 2, "seq_len": 8, "hidden": 8, "ffn_hidden": 16, "num_experts": 4, "top_k": 2},
  "parallel": {"ranks": 2, "gpus_per_node": 2, "mp": 2, "esp": 1},
  "run": {"warmup": 1, "iterations": 1000000, "schedules": ["S1"]}})";

QByteArray last_line(const QByteArray& text) {
  const QList<QByteArray> lines = text.trimmed().split('\n');
  return lines.isEmpty() ? QByteArray() : lines.back();
}

}  // namespace

class TestCliParmSlurm : public QObject {
  Q_OBJECT

  QString slurm_dir_, skip_;
  QTemporaryDir project_;

  // Jobs export this environment to their ranks (--export=ALL). Waiting ranks yield: two cores run the
  // daemons, the case's job and what remains of the one before it.
  ProcessOptions options(int timeout_ms = 240000) const {
    ProcessOptions o;
    o.working_directory = project_.path();
    o.timeout_ms = timeout_ms;
    o.environment = {{"SLURM_CONF", slurm_dir_ + "/slurm.conf"}, {"OMPI_MCA_mpi_yield_when_idle", "1"}};
    return o;
  }
  QString db() const { return project_.filePath("project.parm"); }
  QString long_config() const { return project_.filePath("long.json"); }

  // `parm runs --db`: "name status" of every stored run.
  QStringList stored_runs() const {
    const ProcessResult r = parm_test::run_parm({"runs", "--db", db()}, options(30000));
    if (r.exit_code != 0) {  // never an empty list that every "not stored as complete" check would pass
      qWarning("parm runs failed: %s", r.err.constData());
      return {QStringLiteral("parm runs failed")};
    }
    QStringList out;
    const QRegularExpression row(R"(^\s*\d+\s+(\S+)\s+\S+\s+\d+\s+(\S+))");
    for (const QByteArray& line : r.out.split('\n')) {
      const auto m = row.match(QString::fromUtf8(line));
      if (m.hasMatch()) out << m.captured(1) + " " + m.captured(2);
    }
    return out;
  }

  // The job's state once Slurm has finished ending it (a cancelled job is COMPLETING for a moment first).
  QString settled_state(const QString& id) const {
    const QRegularExpression state(R"(JobState=(\S+))");
    QString last;
    for (int i = 0; i < 100; ++i) {
      const ProcessResult q = parm_test::run_program("scontrol", {"show", "job", "-o", id}, options());
      last = state.match(QString::fromUtf8(q.out)).captured(1);
      if (last != "COMPLETING" && last != "RUNNING") break;
      QTest::qWait(200);
    }
    return last;
  }

  // Starts `parm run ... --slurm` and returns the job's id once its ranks run (the run's incomplete row is in
  // the project: rank 0 is past MPI_Init); with `remote`, through the login host (`--remote parm-login`).
  // A step cancelled while slurmstepd was still launching its tasks wedged for one to three minutes in this
  // 2-core sandbox (its IO connection back to an srun already gone) and held the controller with it:
  // the cases cancel a running layer. Waits up to 3 minutes: a controller held by an earlier step's end.
  QString start_long_job(QProcess& p, const QStringList& extra, bool remote = false) {
    const qsizetype running_before = stored_runs().count("long incomplete");
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("SLURM_CONF", slurm_dir_ + "/slurm.conf");
    env.insert("OMPI_MCA_mpi_yield_when_idle", "1");
    if (remote) env.insert("PATH", slurm_dir_ + "/login/bin:" + env.value("PATH"));
    p.setProcessEnvironment(env);
    p.setWorkingDirectory(project_.path());
    const QStringList via =
        remote ? QStringList{"--remote", "parm-login", "--remote-parm", parm_test::parm_executable()}
               : QStringList{};
    p.start(parm_test::parm_executable(),
            QStringList{"run", long_config(), "--slurm", "--db", db()} + via + extra);
    QString id;
    QByteArray err;
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < 180000 && p.state() != QProcess::NotRunning) {
      p.waitForReadyRead(500);
      err += p.readAllStandardError();
      const auto m = QRegularExpression(R"(submitted Slurm job (\d+))").match(QString::fromUtf8(err));
      if (m.hasMatch()) id = m.captured(1);
      if (!id.isEmpty() && err.contains("Slurm job " + id.toUtf8() + " RUNNING") &&
          err.contains("starting 2 ranks") && stored_runs().count("long incomplete") > running_before)
        return id;
    }
    qWarning("%s", err.constData());
    return {};
  }

 private slots:
  void initTestCase() {
    QVERIFY(project_.isValid());
    slurm_dir_ = qEnvironmentVariable("PARM_TEST_SLURM_DIR");
    QVERIFY2(!slurm_dir_.isEmpty(), "PARM_TEST_SLURM_DIR is set by CTest (the slurm_host fixture)");
    QFile why(slurm_dir_ + "/unavailable");
    if (why.open(QIODevice::ReadOnly))
      QSKIP(qPrintable("no Slurm here: " + QString::fromUtf8(why.readAll()).trimmed()));
    QVERIFY2(QFile::exists(slurm_dir_ + "/slurm.conf"), "the slurm_host fixture did not come up");
    QFile f(long_config());
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(kLongConfig);
    f.close();
  }

  // After a failed case: Slurm's view of the jobs and steps and the daemons' last lines, in the test's own
  // output (CI keeps nothing else of this suite's folder).
  void cleanup() {
    if (!QTest::currentTestFailed()) return;
    QByteArray context = parm_test::run_program("squeue", {"--all", "--steps"}, options(20000)).out;
    for (const char* log : {"slurmctld.log", "slurmd.log"}) {
      QFile f(slurm_dir_ + "/log/" + log);
      if (!f.open(QIODevice::ReadOnly)) continue;
      const QList<QByteArray> lines = f.readAll().trimmed().split('\n');
      context += QByteArray("--- ") + log + '\n';
      for (qsizetype i = std::max<qsizetype>(0, lines.size() - 15); i < lines.size(); ++i)
        context += lines[i] + '\n';
    }
    qWarning("Slurm after the failure:\n%s", context.constData());
  }

  // Under salloc (SLURM_JOB_ID set) `parm run` starts its ranks with srun, unasked, and stores the run.
  void insideAnAllocationRanksStartWithSrun() {
    const ProcessResult r = parm_test::run_program(
        "salloc",
        {"--ntasks", "4", "--overcommit", parm_test::parm_executable(), "run", "default", "--db", db()},
        options());
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QVERIFY2(QRegularExpression(R"(starting 4 ranks \(2 x 2\) with \S*srun in Slurm job \d+)")
                 .match(QString::fromUtf8(r.err))
                 .hasMatch(),
             r.err.constData());
    QVERIFY2(r.out.contains("S2F"), r.out.constData());  // the summary table, every schedule
    QVERIFY(stored_runs().contains("default complete"));
  }

  // --slurm: the script beside the project, submitted, followed to COMPLETED, the run stored.
  void submittedRunIsStored() {
    const int before = stored_runs().size();
    const ProcessResult r = parm_test::run_parm(
        {"run", "default", "--slurm", "--time", "5", "--db", db(), "--schedules", "S1,S2"}, options());
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QVERIFY2(r.err.contains("PENDING") || r.err.contains("RUNNING"), r.err.constData());
    QVERIFY2(QRegularExpression(R"(^parm run: Slurm job \d+ COMPLETED on \S+; the run is stored in )")
                 .match(QString::fromUtf8(last_line(r.err)))
                 .hasMatch(),
             r.err.constData());
    QVERIFY2(r.out.contains("S1") && r.out.contains("S2"), r.out.constData());  // the job's summary, streamed
    QCOMPARE(stored_runs().size(), before + 1);
    // This job's script (the long jobs of later cases write their own, another configuration's, beside it).
    const QStringList scripts =
        QDir(project_.filePath("slurm")).entryList({"default-*.sbatch"}, QDir::Files, QDir::Name);
    QVERIFY(!scripts.isEmpty());
    QFile script(project_.filePath("slurm/" + scripts.back()));
    QVERIFY(script.open(QIODevice::ReadOnly));
    const QByteArray text = script.readAll();
    for (const char* want :
         {"#SBATCH --ntasks=4", "#SBATCH --time=5", "#SBATCH --overcommit", "--launcher srun"})
      QVERIFY2(text.contains(want), text.constData());
  }

  // The login host (sshd in its own network namespace, this suite's key): the options that reach it.
  ProcessOptions remote_options() const {
    ProcessOptions o = options();
    o.environment = {
        {"PATH", slurm_dir_ + "/login/bin:" + qEnvironmentVariable("PATH")}};  // ssh -F its config
    return o;
  }
  bool login_host_missing(QString* why) const {
    QFile f(slurm_dir_ + "/login/unavailable");
    if (!f.open(QIODevice::ReadOnly)) return false;
    *why = QString::fromUtf8(f.readAll()).trimmed();
    return true;
  }

  // --remote: over ssh the login host submits and follows; the run lands in the shared project.
  void remoteSubmissionIsStored() {
    QString why;
    if (login_host_missing(&why)) QSKIP(qPrintable("no login host: " + why));
    const int before = stored_runs().size();
    const ProcessResult r =
        parm_test::run_parm({"run", "default", "--slurm", "--remote", "parm-login", "--remote-parm",
                             parm_test::parm_executable(), "--db", db(), "--schedules", "S1"},
                            remote_options());
    QVERIFY2(r.exit_code == 0, r.err.constData());
    QVERIFY2(r.err.contains("submitting on parm-login over ssh"), r.err.constData());
    QVERIFY2(last_line(r.err).contains(" COMPLETED on "), r.err.constData());
    QVERIFY2(r.out.contains("S1 "), r.out.constData());  // the job's summary on our stdout
    QCOMPARE(stored_runs().size(), before + 1);
  }

  // A login host that does not answer: one line naming it and ssh's reason, exit 1, nothing submitted.
  void unreachableLoginHost() {
    QString why;
    if (login_host_missing(&why)) QSKIP(qPrintable("no login host: " + why));
    const ProcessResult r = parm_test::run_parm(
        {"run", "default", "--slurm", "--remote", "parm-nowhere", "--db", db()}, remote_options());
    QCOMPARE(r.exit_code, 1);
    QCOMPARE(r.err.trimmed().count('\n'), 0);
    QVERIFY2(r.err.startsWith("parm run: --remote parm-nowhere: ssh could not connect: "), r.err.constData());
  }

  // No sbatch on PATH, bad options: one line, exit 2, nothing written.
  void missingSbatchAndBadOptions() {
    ProcessOptions o = options();
    o.environment.append(std::pair<QString, QString>("PATH", "/nonexistent"));
    const ProcessResult r = parm_test::run_parm({"run", "default", "--slurm"}, o);
    QCOMPARE(r.exit_code, 2);
    QCOMPARE(r.err.trimmed().count('\n'), 0);
    QVERIFY2(r.err.contains("sbatch not found"), r.err.constData());
    for (const QStringList& bad :
         {QStringList{"--time", "1:2:3:4"}, QStringList{"--partition", "a;b"}, QStringList{"--nodes", "3"}}) {
      const ProcessResult b = parm_test::run_parm(QStringList{"run", "default", "--slurm"} + bad, options());
      QCOMPARE(b.exit_code, 2);
      QCOMPARE(b.err.trimmed().count('\n'), 0);
      QVERIFY2(b.err.contains(bad.front().toUtf8()), b.err.constData());
    }
  }

  // A rank killed inside the job: the job FAILED, its own verdict (which rank) on the last line.
  void rankKilledInsideTheJob() {
    const ProcessResult r =
        parm_test::run_parm({"run", "default", "--slurm", "--die-on-rank", "1", "--db", db()}, options());
    QCOMPARE(r.exit_code, 1);
    QVERIFY2(QRegularExpression(R"(^parm run: Slurm job \d+ FAILED \(exit code 1\): rank 1 died)")
                 .match(QString::fromUtf8(last_line(r.err)))
                 .hasMatch(),
             r.err.constData());
  }

  // The cases that end a step early come last (the killed rank above, the cancels below): in the 2-core
  // sandbox such a step's daemon now and then holds the controller for a minute or two, and what follows
  // waits it out. scancel mid-run: CANCELLED, exit 1, the run left incomplete.
  void cancelledJob() {
    QProcess p;
    const QString id = start_long_job(p, {});
    QVERIFY(!id.isEmpty());
    QCOMPARE(parm_test::run_program("scancel", {id}, options()).exit_code, 0);
    QVERIFY(p.waitForFinished(180000));
    const QByteArray err = p.readAllStandardError();
    QCOMPARE(p.exitCode(), 1);
    QVERIFY2(last_line(err).startsWith("parm run: Slurm job " + id.toUtf8() + " CANCELLED"), err.constData());
    const QStringList runs = stored_runs();
    QVERIFY(!runs.contains("parm runs failed") && !runs.contains("long complete"));
  }

  // Ctrl-C while following: the job is cancelled, not left running unseen; exit 130.
  void interruptCancelsTheJob() {
    QProcess p;
    const QString id = start_long_job(p, {});
    QVERIFY(!id.isEmpty());
    ::kill(static_cast<pid_t>(p.processId()), SIGINT);
    QVERIFY(p.waitForFinished(180000));
    const QByteArray err = p.readAllStandardError();
    QCOMPARE(p.exitCode(), 130);
    QVERIFY2(last_line(err).startsWith("parm run: Slurm job " + id.toUtf8() + " cancelled"), err.constData());
    QCOMPARE(settled_state(id), QString("CANCELLED"));
  }

  // Ctrl-C while following from the desktop: the job is cancelled over ssh on the login host; exit 130.
  void remoteInterruptCancelsTheJob() {
    QString why;
    if (login_host_missing(&why)) QSKIP(qPrintable("no login host: " + why));
    QProcess p;
    const QString id = start_long_job(p, {}, true);
    QVERIFY(!id.isEmpty());
    ::kill(static_cast<pid_t>(p.processId()), SIGINT);
    QVERIFY(p.waitForFinished(180000));
    const QByteArray err = p.readAllStandardError();
    QCOMPARE(p.exitCode(), 130);
    QVERIFY2(last_line(err).startsWith("parm run: Slurm job " + id.toUtf8() + " on parm-login cancelled"),
             err.constData());
    QCOMPARE(settled_state(id), QString("CANCELLED"));
    const QStringList runs = stored_runs();
    QVERIFY(!runs.contains("parm runs failed") && !runs.contains("long complete"));
  }

  // --time 1: Slurm ends the job after its minute, TIMEOUT, exit 1, the run left incomplete. Last and alone
  // (Slurm's time limits count in whole minutes).
  void jobPastItsTimeLimit() {
    const ProcessResult r = parm_test::run_parm(
        {"run", long_config(), "--slurm", "--time", "1", "--db", project_.filePath("timeout.parm")},
        options(200000));
    QCOMPARE(r.exit_code, 1);
    QVERIFY2(QRegularExpression(R"(^parm run: Slurm job \d+ TIMEOUT: it ran past its time limit 00:01:00)")
                 .match(QString::fromUtf8(last_line(r.err)))
                 .hasMatch(),
             r.err.constData());
    const ProcessResult runs =
        parm_test::run_parm({"runs", "--db", project_.filePath("timeout.parm")}, options());
    QVERIFY2(runs.out.contains("long") && runs.out.contains("incomplete"), runs.out.constData());
  }
};

QTEST_GUILESS_MAIN(TestCliParmSlurm)
#include "test_cli_parm_slurm.moc"
