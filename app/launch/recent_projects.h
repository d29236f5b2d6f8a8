// The recently opened project files, most recent first, in QSettings (key "project/recent"). Files that no
// longer exist are dropped whenever the list is read.
#pragma once

#include <QStringList>

namespace parm::app {

class RecentProjects {
 public:
  static constexpr int kMaxEntries = 8;
  static constexpr const char* kSettingsKey = "project/recent";

  static QStringList list();             // existing files only (prunes the stored list)
  static void add(const QString& path);  // moves it to the front (absolute, canonical path)
  static void remove(const QString& path);
  static void clear();
};

}  // namespace parm::app
