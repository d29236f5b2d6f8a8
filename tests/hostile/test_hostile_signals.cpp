// Hostile inputs, class "process lifetime": `parm run` (and `parm calibrate`) killed mid-run, even by
// SIGKILL, leaves no mpirun, no rank and no temporary folder behind and no run stored as complete; SIGINT and
// SIGTERM end the run with one line and exit 130 / 143; a rank that stops answering (SIGSTOP) is the rank
// named. Each run gets its own TMPDIR, so its temporary folder, and every process of that run (their command
// lines name the folder), are told apart from anything else on the machine.
#include <signal.h>

#include <QDirIterator>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QThread>

#include "hostile_support.h"

namespace {

struct Proc {
  qint64 pid;
  QByteArray cmdline;
  QByteArray environ;
};

// Every process (zombies aside) whose command line mentions `needle`.
QList<Proc> processes_mentioning(const QString& needle) {
  QList<Proc> out;
  for (const QString& entry : QDir("/proc").entryList(QDir::Dirs)) {
    bool numeric = false;
    const qint64 pid = entry.toLongLong(&numeric);
    if (!numeric) continue;
    QFile cmd("/proc/" + entry + "/cmdline");
    if (!cmd.open(QIODevice::ReadOnly)) continue;
    const QByteArray line = cmd.readAll();
    if (!line.contains(needle.toUtf8())) continue;
    QFile stat("/proc/" + entry + "/stat");
    if (stat.open(QIODevice::ReadOnly)) {
      const QByteArray s = stat.readAll();
      const qsizetype close = s.lastIndexOf(')');
      if (close > 0 && s.mid(close + 2, 1) == "Z") continue;
    }
    QFile env("/proc/" + entry + "/environ");
    QByteArray environ;
    if (env.open(QIODevice::ReadOnly)) environ = env.readAll();
    QByteArray shown = line;
    shown.replace('\0', ' ');
    out.push_back({pid, shown, environ});
  }
  return out;
}

// The ranks of the run under `tmp` (Open MPI names each rank in its environment).
QMap<int, qint64> ranks_of(const QString& tmp) {
  QMap<int, qint64> out;
  for (const Proc& p : processes_mentioning(tmp)) {
    if (!p.cmdline.contains(" worker ") && !p.cmdline.contains(" calibrate-worker ")) continue;
    for (const QByteArray& kv : p.environ.split('\0'))
      if (kv.startsWith("OMPI_COMM_WORLD_RANK=")) out[kv.mid(21).toInt()] = p.pid;
  }
  return out;
}

QStringList run_folders(const QString& tmp) {
  return QDir(tmp).entryList({"parm-run-*", "parm-calibrate-*"}, QDir::Dirs | QDir::NoDotAndDotDot);
}

// A `parm` started in the background with its own TMPDIR.
class Background {
 public:
  Background(const QStringList& args, const QString& tmp) {
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("TMPDIR", tmp);
    p_.setProcessEnvironment(env);
    p_.setWorkingDirectory(tmp);
    p_.start(PARM_EXE, args);
  }
  ~Background() {
    if (p_.state() != QProcess::NotRunning) {
      p_.kill();
      p_.waitForFinished(5000);
    }
  }
  qint64 pid() const { return p_.processId(); }
  bool finish(int ms) { return p_.waitForFinished(ms); }
  int exit_code() const { return p_.exitStatus() == QProcess::NormalExit ? p_.exitCode() : -1; }
  QByteArray err() { return p_.readAllStandardError(); }

 private:
  QProcess p_;
};

// Waits until `ranks` ranks of the run run (and a little longer, so the run is past its start).
bool wait_for_ranks(const QString& tmp, int ranks, int ms = 60000) {
  QElapsedTimer t;
  t.start();
  while (t.elapsed() < ms) {
    if (ranks_of(tmp).size() >= ranks) {
      QThread::msleep(1500);
      return true;
    }
    QThread::msleep(100);
  }
  return false;
}

// Nothing of the run under `tmp` may be left: no process naming its folder, no folder.
void expect_nothing_left(const QString& tmp, int within_ms) {
  QElapsedTimer t;
  t.start();
  QList<Proc> left = processes_mentioning(tmp);
  while (!left.isEmpty() && t.elapsed() < within_ms) {
    QThread::msleep(100);
    left = processes_mentioning(tmp);
  }
  QByteArray names;
  for (const Proc& p : left) names += QByteArray::number(p.pid) + " " + p.cmdline + "\n";
  for (const Proc& p : left) ::kill(static_cast<pid_t>(p.pid), SIGKILL);  // never leave them to the next case
  QVERIFY2(left.isEmpty(), names.constData());
  while (!run_folders(tmp).isEmpty() && t.elapsed() < within_ms) QThread::msleep(100);
  QVERIFY2(run_folders(tmp).isEmpty(), qPrintable(run_folders(tmp).join(' ')));
}

// The default preset, long enough to be killed mid-run.
QString long_config(const QString& dir, int ranks) {
  const QByteArray json =
      "{\"name\": \"hostile-long\", \"parallel\": {\"ranks\": " + QByteArray::number(ranks) +
      ", \"gpus_per_node\": 2, \"mp\": 2, \"esp\": 2}, \"run\": {\"iterations\": 200000, "
      "\"schedules\": [\"B_DS\", \"S1\"]}}";
  return hostile::write_file(QDir(dir), "long.json", json);
}

}  // namespace

class TestHostileSignals : public QObject {
  Q_OBJECT
 private slots:
  // SIGKILL of the launcher: the kernel and its guardian end mpirun and the ranks, and the folder goes.
  void sigkillLeavesNothing_data() {
    QTest::addColumn<int>("ranks");
    QTest::addColumn<bool>("with_db");
    QTest::newRow("2 ranks") << 2 << false;
    QTest::newRow("4 ranks") << 4 << false;
    QTest::newRow("2 ranks, --db: stored incomplete") << 2 << true;
  }

  void sigkillLeavesNothing() {
    QFETCH(int, ranks);
    QFETCH(bool, with_db);
    QTemporaryDir tmp;
    QStringList args{"run", long_config(tmp.path(), ranks), "--ranks", QString::number(ranks)};
    const QString db = tmp.filePath("project.sqlite");
    if (with_db) args << "--db" << db;
    {
      Background run(args, tmp.path());
      QVERIFY2(wait_for_ranks(tmp.path(), ranks), run.err().constData());
      QCOMPARE(::kill(static_cast<pid_t>(run.pid()), SIGKILL), 0);
      QVERIFY(run.finish(5000));
    }
    expect_nothing_left(tmp.path(), 5000);
    if (!with_db) return;
    const hostile::Result r = hostile::run_parm({"runs", "--db", db, "--json"});
    QVERIFY2(r.exit_code == 0, r.err.constData());
    const QJsonArray rows = QJsonDocument::fromJson(r.out).object()["runs"].toArray();
    QCOMPARE(rows.size(), 1);
    QVERIFY2(!rows[0].toObject()["complete"].toBool(), r.out.constData());
  }

  // SIGINT / SIGTERM: one line, the documented exit code, and nothing left.
  void interruptIsOneLine_data() {
    QTest::addColumn<int>("sig");
    QTest::addColumn<int>("exit_code");
    QTest::addColumn<QByteArray>("line");
    QTest::newRow("SIGINT") << int(SIGINT) << 130 << QByteArray("parm run: interrupted");
    QTest::newRow("SIGTERM") << int(SIGTERM) << 143 << QByteArray("parm run: terminated");
  }

  void interruptIsOneLine() {
    QFETCH(int, sig);
    QFETCH(int, exit_code);
    QFETCH(QByteArray, line);
    QTemporaryDir tmp;
    Background run({"run", long_config(tmp.path(), 2), "--ranks", "2"}, tmp.path());
    QVERIFY2(wait_for_ranks(tmp.path(), 2), run.err().constData());
    QCOMPARE(::kill(static_cast<pid_t>(run.pid()), sig), 0);
    QVERIFY2(run.finish(15000), "parm run did not end after the signal");
    const QByteArray err = run.err();
    QVERIFY2(run.exit_code() == exit_code, qPrintable(QString::number(run.exit_code()) + "\n" + err));
    QCOMPARE(err.trimmed().split('\n').last(), line);
    expect_nothing_left(tmp.path(), 5000);
  }

  // A stopped rank is the one named, not rank 0 that noticed it.
  void stoppedRankIsNamed_data() {
    QTest::addColumn<int>("ranks");
    QTest::addColumn<int>("stopped");
    QTest::newRow("rank 1 of 2") << 2 << 1;
    QTest::newRow("rank 2 of 4") << 4 << 2;
  }

  void stoppedRankIsNamed() {
    QFETCH(int, ranks);
    QFETCH(int, stopped);
    QTemporaryDir tmp;
    Background run(
        {"run", long_config(tmp.path(), ranks), "--ranks", QString::number(ranks), "--timeout-ms", "1500"},
        tmp.path());
    QVERIFY2(wait_for_ranks(tmp.path(), ranks), run.err().constData());
    const qint64 victim = ranks_of(tmp.path()).value(stopped, 0);
    QVERIFY(victim > 0);
    QCOMPARE(::kill(static_cast<pid_t>(victim), SIGSTOP), 0);
    const bool finished = run.finish(30000);
    ::kill(static_cast<pid_t>(victim), SIGCONT);
    QVERIFY2(finished, "parm run did not end after a rank stopped");
    const QByteArray err = run.err();
    QVERIFY2(run.exit_code() == 1, qPrintable(QString::number(run.exit_code()) + "\n" + err));
    const QByteArray last = err.trimmed().split('\n').last();
    const QByteArray want =
        "parm run: rank " + QByteArray::number(stopped) + " did not answer within --timeout-ms 1500";
    QVERIFY2(last.startsWith(want), last.constData());
    expect_nothing_left(tmp.path(), 5000);
  }

  // The launcher and its guardian killed at once (a whole process group, the OOM killer twice): mpirun still
  // gets SIGTERM from the kernel and the ranks end themselves; the folder is swept by the next launcher.
  void launcherAndGuardianKilled() {
    QTemporaryDir tmp;
    const QString config = long_config(tmp.path(), 2);
    {
      Background run({"run", config, "--ranks", "2"}, tmp.path());
      QVERIFY2(wait_for_ranks(tmp.path(), 2), run.err().constData());
      // The guardian first: killed second, it could see the launcher go and clean up before its own end.
      int launchers = 0;
      for (const Proc& p : processes_mentioning(tmp.path()))
        if (p.cmdline.contains(" run ") && p.pid != run.pid())
          launchers += ::kill(static_cast<pid_t>(p.pid), SIGKILL) == 0 ? 1 : 0;
      launchers += ::kill(static_cast<pid_t>(run.pid()), SIGKILL) == 0 ? 1 : 0;
      QCOMPARE(launchers, 2);  // the guardian and parm run
      QVERIFY(run.finish(5000));
    }
    QElapsedTimer t;
    t.start();
    while (!processes_mentioning(tmp.path()).isEmpty() && t.elapsed() < 5000) QThread::msleep(100);
    QVERIFY(processes_mentioning(tmp.path()).isEmpty());
    const QStringList stale = run_folders(tmp.path());
    QCOMPARE(stale.size(), 1);
    Background next({"run", config, "--ranks", "2", "--dry-run"}, tmp.path());
    QVERIFY(next.finish(30000));
    QCOMPARE(next.exit_code(), 0);
    // The stale folder is swept; the dry run names the unchanged config itself and leaves nothing either.
    QCOMPARE(run_folders(tmp.path()), QStringList());
  }

  // `parm calibrate` goes the same way.
  void sigkillCalibrateLeavesNothing() {
    QTemporaryDir tmp;
    Background run({"calibrate", long_config(tmp.path(), 2), "--ranks", "2", "-n", "2000", "--out",
                    tmp.filePath("calibration.json")},
                   tmp.path());
    QVERIFY2(wait_for_ranks(tmp.path(), 2), run.err().constData());
    QCOMPARE(::kill(static_cast<pid_t>(run.pid()), SIGKILL), 0);
    QVERIFY(run.finish(5000));
    expect_nothing_left(tmp.path(), 5000);
    QVERIFY(!QFile::exists(tmp.filePath("calibration.json")));
  }
};

QTEST_GUILESS_MAIN(TestHostileSignals)
#include "test_hostile_signals.moc"
