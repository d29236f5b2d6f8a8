// A project file: opening and creating it, refusing corrupt and foreign files without touching them, the
// runs list following another writer (a run still being written is "incomplete"), and the recent files.
#include <sqlite3.h>

#include <QAbstractItemModelTester>
#include <QSettings>
#include <QTemporaryDir>
#include <QtTest>

#include "app/launch/project.h"
#include "app/launch/recent_projects.h"
#include "app/models/run_list_model.h"
#include "db/database.h"

using namespace parm::app;

namespace {

QByteArray readAll(const QString& path) {
  QFile f(path);
  return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

void writeAll(const QString& path, const QByteArray& bytes) {
  QFile f(path);
  QVERIFY(f.open(QIODevice::WriteOnly));
  f.write(bytes);
}

parm::db::RunInfo measuredRun(const char* name) {
  parm::db::RunInfo r;
  r.name = name;
  r.kind = "measured";
  r.started_at = "2026-01-01T00:00:00Z";
  r.backend = "cpu";
  r.ranks = 2;
  r.config_json = "{}";
  return r;
}

}  // namespace

class TestProject : public QObject {
  Q_OBJECT
 private slots:
  void initTestCase() {
    QStandardPaths::setTestModeEnabled(true);  // QSettings go to a test location
    QCoreApplication::setOrganizationName("ParmStudioTest");
    QCoreApplication::setApplicationName("test_app_project");
  }
  void init() { RecentProjects::clear(); }

  void corruptFileRefusedAndUntouched() {
    QTemporaryDir dir;
    const QString path = dir.filePath("garbage.sqlite");
    QByteArray garbage;
    for (int i = 0; i < 8192; ++i) garbage.append(char((i * 7919) % 251));
    writeAll(path, garbage);
    Project project;
    QSignalSpy errors(&project, &Project::errorOccurred);
    QVERIFY(!project.open(path));
    QVERIFY(!project.create(path));  // not even when creating is allowed
    QCOMPARE(errors.count(), 2);
    const QString message = errors.first().first().toString();
    QVERIFY2(message.contains("garbage.sqlite"), qPrintable(message));
    QVERIFY(!message.contains('\n'));
    QCOMPARE(project.lastError(), message);
    QVERIFY(!project.isOpen());
    QCOMPARE(readAll(path), garbage);
    QVERIFY(!QFile::exists(path + "-wal"));
    QVERIFY(RecentProjects::list().isEmpty());
  }

  void foreignSqliteRefusedAndUntouched() {
    QTemporaryDir dir;
    const QString path = dir.filePath("foreign.sqlite");
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open(path.toUtf8().constData(), &db), SQLITE_OK);
    QCOMPARE(sqlite3_exec(
                 db, "CREATE TABLE customers (id INTEGER, name TEXT); INSERT INTO customers VALUES (1, 'a')",
                 nullptr, nullptr, nullptr),
             SQLITE_OK);
    sqlite3_close(db);
    const QByteArray before = readAll(path);

    Project project;
    QVERIFY(project.create(dir.filePath("ours.sqlite")));  // the open project survives a failed open
    QSignalSpy errors(&project, &Project::errorOccurred);
    QVERIFY(!project.open(path, true));
    QCOMPARE(errors.count(), 1);
    const QString message = errors.first().first().toString();
    QVERIFY2(message.contains("foreign.sqlite") && message.contains("not a Parm Studio database"),
             qPrintable(message));
    QCOMPARE(readAll(path), before);
    QVERIFY(project.isOpen());
    QCOMPARE(project.path(), dir.filePath("ours.sqlite"));
  }

  void missingFileIsAnErrorUnlessCreating() {
    QTemporaryDir dir;
    Project project;
    QSignalSpy opened(&project, &Project::opened);
    QVERIFY(!project.open(dir.filePath("none.sqlite")));
    QVERIFY(project.lastError().contains("no such file"));
    QVERIFY(project.create(dir.filePath("new.sqlite")));
    QCOMPARE(opened.count(), 1);
    QVERIFY(project.database());
    QCOMPARE(project.runs()->rowCount(), 0);
    QSignalSpy closed(&project, &Project::closed);
    project.close();
    QCOMPARE(closed.count(), 1);
    QVERIFY(!project.isOpen());
    QVERIFY(project.open(dir.filePath("new.sqlite")));  // now it exists
  }

  void runsFollowAnotherWriter() {
    QTemporaryDir dir;
    const QString path = dir.filePath("p.sqlite");
    {
      auto writer = parm::db::Database::open(path.toStdString(), true);
      writer.finish_run(writer.begin_run(measuredRun("before")));
    }
    Project project;
    project.setPollInterval(50);
    QAbstractItemModelTester tester(project.runs(), QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy appeared(&project, &Project::runAppeared);
    QSignalSpy completed(&project, &Project::runCompleted);
    QVERIFY(project.open(path));
    const RunListModel* runs = project.runs();
    QCOMPARE(runs->rowCount(), 1);
    QCOMPARE(appeared.count(), 0);  // present at opening: not "appeared"
    QCOMPARE(runs->index(0, RunListModel::StatusColumn).data().toString(), QString("complete"));

    // Another connection (as `parm run --db` in another process) starts a run and writes events into it.
    auto writer = parm::db::Database::open(path.toStdString(), false);
    const auto id = writer.begin_run(measuredRun("live"));
    QTRY_COMPARE_WITH_TIMEOUT(runs->rowCount(), 2, 5000);
    QCOMPARE(appeared.count(), 1);
    QCOMPARE(appeared.first().first().toLongLong(), qint64(id));
    const int row = runs->rowOfRun(id);
    QCOMPARE(row, 1);
    QCOMPARE(runs->index(row, RunListModel::StatusColumn).data().toString(), QString("incomplete"));
    QCOMPARE(runs->index(row, RunListModel::NameColumn).data().toString(), QString("live"));
    QCOMPARE(runs->index(row, RunListModel::RanksColumn).data().toInt(), 2);
    QCOMPARE(runs->index(row, 0).data(RunListModel::CompleteRole).toBool(), false);

    parm::db::EventRow e;
    e.op = writer.intern("experts");
    e.end_ns = 10;
    std::vector<parm::db::EventRow> events(5, e);
    writer.add_events(id, events);
    QTRY_COMPARE_WITH_TIMEOUT(runs->index(row, RunListModel::EventsColumn).data().toLongLong(), 5LL, 5000);
    writer.finish_run(id);
    QTRY_COMPARE_WITH_TIMEOUT(runs->index(row, RunListModel::StatusColumn).data().toString(),
                              QString("complete"), 5000);
    QCOMPARE(completed.count(), 1);
    QVERIFY(project.lastError().isEmpty());
  }

  void runListModelUpdates() {
    RunListModel model;
    QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
    QSignalSpy added(&model, &RunListModel::runAdded);
    RunListModel::Row a{1, "a", "measured", "t", "cpu", 4, true, 10};
    RunListModel::Row b{2, "b", "validation", "t", "cpu", 4, false, 0};
    model.setRows({a});
    model.setRows({a, b});
    QCOMPARE(added.count(), 2);
    QCOMPARE(model.maxRunId(), qint64(2));
    b.complete = true;
    model.setRows({a, b});
    QCOMPARE(model.index(1, RunListModel::StatusColumn).data().toString(), QString("complete"));
    model.setRows({b});  // a run deleted: reset
    QCOMPARE(model.rowCount(), 1);
    QCOMPARE(model.rowOfRun(1), -1);
    QCOMPARE(model.headerData(RunListModel::EventsColumn, Qt::Horizontal).toString(), QString("Events"));
    model.clear();
    QCOMPARE(model.rowCount(), 0);
  }

  void recentFilesRoundTrip() {
    QTemporaryDir dir;
    QStringList files;
    for (int i = 0; i < 10; ++i) {
      files << QFileInfo(dir.filePath(QString("p%1.sqlite").arg(i))).absoluteFilePath();
      Project project;
      QVERIFY(project.create(files.back()));
    }
    QStringList recent = RecentProjects::list();
    QCOMPARE(recent.size(), RecentProjects::kMaxEntries);
    QCOMPARE(recent.first(), QFileInfo(files[9]).canonicalFilePath());  // most recent first
    QCOMPARE(recent.last(), QFileInfo(files[2]).canonicalFilePath());
    // It is stored: a fresh QSettings sees the same list.
    QCOMPARE(QSettings().value(RecentProjects::kSettingsKey).toStringList(), recent);
    RecentProjects::add(files[5]);
    QCOMPARE(RecentProjects::list().first(), QFileInfo(files[5]).canonicalFilePath());
    QCOMPARE(RecentProjects::list().size(), RecentProjects::kMaxEntries);
    // A file that disappeared is pruned.
    QVERIFY(QFile::remove(files[9]));
    recent = RecentProjects::list();
    QCOMPARE(recent.size(), RecentProjects::kMaxEntries - 1);
    QVERIFY(!recent.contains(QFileInfo(files[9]).absoluteFilePath()));
    QCOMPARE(QSettings().value(RecentProjects::kSettingsKey).toStringList(), recent);
    RecentProjects::remove(files[5]);
    QVERIFY(!RecentProjects::list().contains(QFileInfo(files[5]).canonicalFilePath()));
  }
};

QTEST_GUILESS_MAIN(TestProject)
#include "test_app_project.moc"
