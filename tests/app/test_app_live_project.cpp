// The main window's project while other processes write to it (issue 12, database safety). With the project
// open and a run shown (the timeline and comparison open connections of their own), two real 2-rank
// `parm run --db` commits each appear in the Runs dock within 2 s of the command finishing, and the GUI
// process never holds the project's -wal/-shm as deleted files (what a descriptor closed outside SQLite used
// to cause: the writer deleted the WAL under the GUI, which then saw no commit again). A project in a
// read-only place (a read-only bind mount, else an immutable file) opens viewable, labelled "[read-only]"
// with one line in the message bar, creates nothing beside the file, and follows commits made through a
// writable path.
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include "app/launch/project.h"
#include "app/main_window.h"
#include "app/models/run_list_model.h"
#include "app/timeline/timeline_widget.h"
#include "tests/hostile/read_only_place.h"

using namespace parm::app;

namespace {

const char* kConfig = R"({"name":"live","layer":{"batch":2,"seq_len":32,"hidden":32,"ffn_hidden":64,
 "num_experts":2,"top_k":1},"parallel":{"ranks":2,"gpus_per_node":2,"mp":1,"esp":1},
 "run":{"warmup":1,"iterations":2,"schedules":["B_DS","S1"]}})";

// Lines of /proc/self/maps and targets of /proc/self/fd that name `file` as deleted.
QStringList deletedHandles(const QString& file) {
  QStringList hits;
  QFile maps("/proc/self/maps");
  if (maps.open(QIODevice::ReadOnly))
    for (const QByteArray& line : maps.readAll().split('\n'))
      if (line.contains(file.toUtf8()) && line.contains("(deleted)")) hits << QString::fromUtf8(line);
  const QDir fds("/proc/self/fd");
  for (const QString& fd : fds.entryList(QDir::NoDotAndDotDot | QDir::System | QDir::Files)) {
    const QString target = QFile::symLinkTarget(fds.filePath(fd));
    if (target.contains(file) && target.contains("(deleted)")) hits << target;
  }
  return hits;
}

}  // namespace

class TestAppLiveProject : public QObject {
  Q_OBJECT

  QTemporaryDir dir_;
  QString cfg_;

  QString path(const QString& name) const { return dir_.filePath(name); }

  // `parm run --db DB` on 2 ranks while the event loop runs; returns when it has finished (exit 0 verified).
  void runWhileTheGuiIsOpen(const QString& db) {
    QProcess p;
    p.setWorkingDirectory(dir_.path());
    p.start(QStringLiteral(PARM_EXE), {"run", cfg_, "--ranks", "2", "--db", db});
    QTRY_VERIFY_WITH_TIMEOUT(p.state() == QProcess::NotRunning, 120000);
    QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0,
             p.readAllStandardError().constData());
  }

 private Q_SLOTS:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);
    QSettings().clear();
    QVERIFY(dir_.isValid());
    cfg_ = path("live.json");
    QFile f(cfg_);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(kConfig);
  }

  void commitsOfAnotherProcessAppearWithinTwoSeconds() {
    const QString db = path("project.sqlite");
    runWhileTheGuiIsOpen(db);  // the first run, before the window opens
    MainWindow w(PARM_EXE);
    QVERIFY(w.openProject(db));
    QVERIFY(!w.project()->isReadOnly());
    QVERIFY(!w.windowTitle().contains("read-only"));
    QCOMPARE(w.project()->runs()->rowCount(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(!w.timeline()->isLoading(), 30000);
    for (int k = 2; k <= 3; ++k) {  // the second commit is the one a stale WAL index used to hide
      runWhileTheGuiIsOpen(db);
      QTRY_VERIFY_WITH_TIMEOUT(w.project()->runs()->rowCount() == k, 2000);  // 2 s from the command's end
      const int row = w.project()->runs()->rowOfRun(k);
      QVERIFY(row >= 0);
      QVERIFY(w.project()->runs()->row(row)->complete);
      QVERIFY(w.selectRun(k));  // the views open the new run: more connections to the same file
      QTRY_VERIFY_WITH_TIMEOUT(!w.timeline()->isLoading(), 30000);
      const QStringList deleted = deletedHandles(db);
      QVERIFY2(deleted.isEmpty(), qPrintable(deleted.join('\n')));
    }
    QVERIFY2(w.messages().isEmpty(), qPrintable(w.messages().join(" | ")));
  }

  void readOnlyProjectIsViewableAndLabelled() {
    const QString src = path("shared");
    QVERIFY(QDir().mkpath(src));
    const QString writable = src + "/ro.sqlite";
    runWhileTheGuiIsOpen(writable);
    hostile::ReadOnlyPlace place(src, path("view"), "ro.sqlite");
    if (place.file.isEmpty())
      QSKIP("no read-only place can be made here (no bind mount, chattr or permissions)");
    qInfo("read-only place: %s", qPrintable(place.how));

    MainWindow w(PARM_EXE);
    QVERIFY2(w.openProject(place.file), qPrintable(w.messages().join(" | ")));
    QVERIFY(w.project()->isReadOnly());
    QVERIFY2(w.windowTitle().contains("[read-only]"), qPrintable(w.windowTitle()));
    QVERIFY2(w.message().contains("read-only") && !w.message().contains('\n'), qPrintable(w.message()));
    QVERIFY(!w.message().contains("corrupt"));
    QCOMPARE(w.project()->runs()->rowCount(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(!w.timeline()->isLoading(), 30000);
    QVERIFY(w.timeline()->timelineData());  // the run is viewable
    QVERIFY(!QFile::exists(writable + "-wal") && !QFile::exists(writable + "-shm"));

    // A launch into it is refused at once, before any rank starts.
    QProcess refused;
    refused.start(QStringLiteral(PARM_EXE), {"run", cfg_, "--ranks", "2", "--db", place.file});
    QVERIFY(refused.waitForFinished(20000));
    QCOMPARE(refused.exitCode(), 2);
    QVERIFY(refused.readAllStandardError().contains("read-only"));

    if (!place.mounted) return;  // the writable path exists only beside a bind mount
    runWhileTheGuiIsOpen(writable);
    QTRY_VERIFY_WITH_TIMEOUT(w.project()->runs()->rowCount() == 2, 2000);
    QVERIFY(w.project()->isReadOnly());
  }
};

QTEST_MAIN(TestAppLiveProject)
#include "test_app_live_project.moc"
