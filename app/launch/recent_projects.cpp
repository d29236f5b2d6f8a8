#include "app/launch/recent_projects.h"

#include <QFileInfo>
#include <QSettings>

namespace parm::app {

namespace {

QString normalized(const QString& path) {
  const QFileInfo info(path);
  const QString canonical = info.canonicalFilePath();  // empty when the file is gone
  return canonical.isEmpty() ? info.absoluteFilePath() : canonical;
}

void store(const QStringList& paths) {
  QSettings().setValue(RecentProjects::kSettingsKey, paths);
}

}  // namespace

QStringList RecentProjects::list() {
  const QStringList stored = QSettings().value(kSettingsKey).toStringList();
  QStringList kept;
  for (const QString& p : stored)
    if (QFileInfo(p).isFile() && !kept.contains(p)) kept << p;
  while (kept.size() > kMaxEntries) kept.removeLast();
  if (kept != stored) store(kept);
  return kept;
}

void RecentProjects::add(const QString& path) {
  const QString p = normalized(path);
  QStringList paths = list();
  paths.removeAll(p);
  paths.prepend(p);
  while (paths.size() > kMaxEntries) paths.removeLast();
  store(paths);
}

void RecentProjects::remove(const QString& path) {
  QStringList paths = QSettings().value(kSettingsKey).toStringList();
  paths.removeAll(normalized(path));
  paths.removeAll(path);
  store(paths);
}

void RecentProjects::clear() {
  store({});
}

}  // namespace parm::app
