#include "app/launch/project.h"

#include <QDateTime>
#include <QFileInfo>
#include <QFileSystemWatcher>
#include <QTimer>

#include "app/launch/recent_projects.h"
#include "app/models/latest_job.h"
#include "app/models/run_list_model.h"
#include "db/database.h"

namespace parm::app {

Project::Project(QObject* parent)
    : QObject(parent),
      runs_(new RunListModel(this)),
      watcher_(new QFileSystemWatcher(this)),
      poll_(new QTimer(this)),
      debounce_(new QTimer(this)),
      counter_(new LatestJob(this)) {
  // The watcher reacts at once to writes of the file and its WAL; the timer catches what watchers miss
  // (network file systems, a WAL created after opening).
  poll_->setInterval(1000);
  debounce_->setSingleShot(true);
  debounce_->setInterval(100);
  connect(poll_, &QTimer::timeout, this, &Project::checkForChanges);
  connect(debounce_, &QTimer::timeout, this, &Project::checkForChanges);
  connect(watcher_, &QFileSystemWatcher::fileChanged, debounce_, qOverload<>(&QTimer::start));
  connect(runs_, &RunListModel::runAdded, this, [this](qint64 id) {
    if (!loading_) emit runAppeared(id);
  });
  connect(runs_, &RunListModel::runCompleted, this, [this](qint64 id) {
    if (!loading_) emit runCompleted(id);
  });
}

Project::~Project() = default;

bool Project::isReadOnly() const {
  return db_ && db_->read_only();
}

bool Project::open(const QString& path, bool create) {
  const QString absolute = QFileInfo(path).absoluteFilePath();
  std::unique_ptr<db::Database> db;
  try {
    db = std::make_unique<db::Database>(db::Database::open(absolute.toStdString(), create));
  } catch (const std::exception& e) {
    lastError_ = QString::fromUtf8(e.what());
    emit errorOccurred(lastError_);
    return false;
  }
  close();
  db_ = std::move(db);
  path_ = absolute;
  lastError_.clear();
  lastRefreshError_.clear();
  version_ = dataVersion();
  signature_ = fileSignature();
  loading_ = true;  // the runs already there did not "appear"
  refresh();
  loading_ = false;
  watcher_->addPath(path_);
  if (QFileInfo::exists(path_ + "-wal")) watcher_->addPath(path_ + "-wal");
  poll_->start();
  RecentProjects::add(path_);
  emit opened(path_);
  return true;
}

void Project::close() {
  if (!db_) return;
  poll_->stop();
  debounce_->stop();
  counter_->cancel();
  if (const QStringList watched = watcher_->files(); !watched.isEmpty()) watcher_->removePaths(watched);
  runs_->clear();
  db_.reset();
  path_.clear();
  version_ = -1;
  signature_.clear();
  emit closed();
}

void Project::setPollInterval(int ms) {
  poll_->setInterval(ms);
}

bool Project::refresh() {
  if (!db_) return false;
  try {
    runs_->refresh(*db_, /*countEvents=*/false);
    lastRefreshError_.clear();
    countEvents();
    return true;
  } catch (const std::exception& e) {
    const QString message = QString::fromUtf8(e.what());
    if (message != lastRefreshError_) {
      lastRefreshError_ = lastError_ = message;
      emit errorOccurred(message);
    }
    return false;
  }
}

void Project::countEvents() {
  const std::vector<std::int64_t> ids = runs_->runsToCount();
  if (ids.empty()) return;
  const std::string path = path_.toStdString();
  counter_->start(
      [path, ids] {
        std::vector<std::pair<std::int64_t, std::int64_t>> counts;
        try {
          const db::Database db = db::Database::open(path, false);
          for (const std::int64_t id : ids) counts.emplace_back(id, db.event_count(id));
        } catch (const std::exception&) {
          // the file went away or is being replaced: the next refresh counts again
        }
        return counts;
      },
      [this, path](std::vector<std::pair<std::int64_t, std::int64_t>> counts) {
        if (path == path_.toStdString()) runs_->setEventCounts(counts);
      });
}

qint64 Project::dataVersion() const {
  return db_ ? db_->data_version() : -1;
}

QString Project::fileSignature() const {
  QString signature;
  for (const QString& file : {path_, path_ + "-wal"}) {
    const QFileInfo info(file);
    signature += info.exists()
                     ? QString("%1@%2;").arg(info.size()).arg(info.lastModified().toMSecsSinceEpoch())
                     : QStringLiteral("-;");
  }
  return signature;
}

// A read-only connection may be immutable (no WAL index could be made), so it is replaced when the files
// change; on failure the old one stays and the reason is shown once.
void Project::reopenReadOnly() {
  try {
    auto db = std::make_unique<db::Database>(db::Database::open(path_.toStdString(), false));
    db_ = std::move(db);
    version_ = -1;
  } catch (const std::exception& e) {
    const QString message = QString::fromUtf8(e.what());
    if (message != lastRefreshError_) {
      lastRefreshError_ = lastError_ = message;
      emit errorOccurred(message);
    }
  }
}

// Another connection committed since the last look: re-read the runs (cheap when nothing changed).
void Project::checkForChanges() {
  if (!db_) return;
  if (const QString wal = path_ + "-wal"; !watcher_->files().contains(wal) && QFileInfo::exists(wal))
    watcher_->addPath(wal);
  if (db_->read_only()) {
    const QString signature = fileSignature();
    if (signature != signature_) {
      signature_ = signature;
      reopenReadOnly();
    }
  }
  const qint64 version = dataVersion();
  if (version == version_ && version >= 0) return;
  version_ = version;
  refresh();
}

}  // namespace parm::app
