// The main window: one project (a SQLite file) at a time. Tabs Configure (form + launch), Timeline, Compare
// and Sweep; a Runs dock listing the project's runs, whose selection drives the three views; a message bar
// that shows every error in one line (corrupt file, failed `parm`, unreadable run) instead of crashing.
#pragma once

#include <QMainWindow>
#include <QStringList>

class QLabel;
class QMenu;
class QTabWidget;
class QTableView;
class QFrame;

namespace parm::app {

class ComparisonPage;
class ConfigPage;
class ExportActions;
class LaunchPanel;
class Project;
class SweepPage;
class TimelineWidget;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  enum Page { ConfigurePage, TimelinePage, ComparePage, SweepTab };

  // An empty `parmExecutable` means the `parm` next to parm-studio (or on PATH).
  explicit MainWindow(const QString& parmExecutable = {}, QWidget* parent = nullptr);

  // Opens (create: opens or creates) a project file; false with the one-line error in the message bar.
  bool openProject(const QString& path, bool create = false);
  // File > Open configuration without the dialog: a file the engine cannot read or parse is one line in the
  // message bar (and the configuration page's issues).
  void openConfigFile(const QString& path);
  // Shows run `runId` of the open project in the timeline, comparison and sweep; false (message bar) when it
  // cannot be shown. A validation run shows the run it measured.
  bool selectRun(qint64 runId);
  qint64 currentRun() const { return currentRun_; }

  // The message bar: the last message shown (empty when dismissed) and every message of this window.
  QString message() const;
  QStringList messages() const { return messages_; }
  void showMessage(const QString& text, bool error = true);

  // Grabs each page as DIR/<page>.png (configure, timeline, comparison, sweep); the one-line error or empty.
  QString saveScreenshots(const QString& dir);

  Project* project() const { return project_; }
  ConfigPage* configPage() const { return config_; }
  LaunchPanel* launchPanel() const { return launch_; }
  TimelineWidget* timeline() const { return timeline_; }
  ComparisonPage* comparison() const { return compare_; }
  SweepPage* sweep() const { return sweep_; }
  QTableView* runsView() const { return runsView_; }
  QTabWidget* tabs() const { return tabs_; }

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void buildMenus();
  QWidget* buildMessageBar();
  void openConfig();
  void saveConfig();
  void newProject();
  void openProjectDialog();
  void fillRecentMenu();
  void exportTimelineImage();
  void projectOpened(const QString& path);
  void runsSelectionChanged();

  Project* project_;
  ConfigPage* config_;
  LaunchPanel* launch_;
  TimelineWidget* timeline_;
  ComparisonPage* compare_;
  SweepPage* sweep_;
  ExportActions* exports_;
  QTabWidget* tabs_;
  QTableView* runsView_;
  QFrame* messageBar_;
  QLabel* messageLabel_;
  QMenu* recentMenu_ = nullptr;
  QStringList messages_;
  qint64 currentRun_ = 0;
  qint64 launchedRun_ = 0;  // the newest run the current launch stored
  bool selecting_ = false;  // selectRun() moves the runs view; its signal must not re-enter
};

}  // namespace parm::app
