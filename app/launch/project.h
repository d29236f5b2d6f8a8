// A project = one SQLite file (db/database.h). Opening or creating it, its runs as a model that follows the
// file while other processes (`parm run --db`) write to it, and the recent-files list. A file that is not a
// project (corrupt, foreign SQLite, newer schema) is refused with one line naming it, and is never modified.
// One long-lived connection per open project: other processes' commits are seen through PRAGMA data_version
// (the documented way), polled on a timer and on file-watcher events. A project in a read-only place opens
// read-only (isReadOnly()) and viewable; its connection is reopened when the file or its WAL changes, since a
// read-only connection that could not map the WAL index does not see commits.
#pragma once

#include <QObject>
#include <QString>
#include <memory>

class QFileSystemWatcher;
class QTimer;

namespace parm::db {
class Database;
}

namespace parm::app {

class LatestJob;
class RunListModel;

class Project : public QObject {
  Q_OBJECT
 public:
  explicit Project(QObject* parent = nullptr);
  ~Project() override;

  // Opens an existing project file (create = false) or opens/creates one (create = true). On failure the
  // project that was open stays open, errorOccurred(message) is emitted and false returned. On success the
  // file goes to the front of RecentProjects.
  bool open(const QString& path, bool create = false);
  bool create(const QString& path) { return open(path, true); }
  void close();

  bool isOpen() const { return db_ != nullptr; }
  bool isReadOnly() const;  // opened read-only: the file, its folder or its file system is not writable
  QString path() const { return path_; }  // absolute; empty when none is open
  QString lastError() const { return lastError_; }
  // The open database (nullptr when none), for read queries on the GUI thread.
  db::Database* database() const { return db_.get(); }
  RunListModel* runs() const { return runs_; }

  // How often the file is checked for commits of other processes (a cheap PRAGMA data_version).
  void setPollInterval(int ms);

 public slots:
  // Re-reads the runs now; false (and errorOccurred) when the queries fail. Event counts are read on a
  // worker with its own connection (an O(events) query) and fill the Events column when ready.
  bool refresh();

 signals:
  void opened(const QString& path);
  void closed();
  void errorOccurred(const QString& message);
  void runAppeared(qint64 runId);   // a run not there before (not those present when the file was opened)
  void runCompleted(qint64 runId);  // a run listed as incomplete is now complete

 private:
  void checkForChanges();
  qint64 dataVersion() const;
  QString fileSignature() const;  // size and time of the file and its WAL (stat only, no descriptor)
  void reopenReadOnly();
  void countEvents();

  std::unique_ptr<db::Database> db_;
  QString path_;
  QString lastError_;
  QString lastRefreshError_;  // reported once, not on every poll
  qint64 version_ = -1;
  QString signature_;
  bool loading_ = false;
  RunListModel* runs_;
  QFileSystemWatcher* watcher_;
  QTimer* poll_;
  QTimer* debounce_;
  LatestJob* counter_;
};

}  // namespace parm::app
