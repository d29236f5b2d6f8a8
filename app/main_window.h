// The main window: one project (a SQLite file) at a time. Tabs Configure (form + launch), Timeline, Compare
// and Sweep; a Runs dock listing the project's runs, whose selection drives the three views; a message bar
// that shows every error in one line (corrupt file, failed `parm`, unreadable run) instead of crashing.
#pragma once

#include <QMainWindow>
#include <QStringList>
#include <functional>
#include <string>
#include <vector>

class QDialog;
class QDockWidget;
class QLabel;
class QMenu;
class QProgressBar;
class QTabWidget;
class QTableView;

namespace parm::app {

class CalibrationPage;
class ComparisonPage;
class ConfigPage;
class ExportActions;
class LaunchPanel;
class MessageBar;
class NsysImport;
class Project;
class RunDiffPage;
class SweepPage;
class TimelineWidget;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  enum Page { ConfigurePage, TimelinePage, ComparePage, SweepTab, CalibrationTab };

  // An empty `parmExecutable` means the `parm` next to parm-studio (or on PATH).
  explicit MainWindow(const QString& parmExecutable = {}, QWidget* parent = nullptr);

  // Runs `then` from the event loop once the window has painted for the first time (at once when it has):
  // parm-studio opens its project there, so the window is on screen before the project's synchronous part.
  void afterFirstPaint(std::function<void()> then);
  // Opens (create: opens or creates) a project file; false with the one-line error in the message bar.
  bool openProject(const QString& path, bool create = false);
  // File > Open configuration without the dialog: a file the engine cannot read or parse is one line in the
  // message bar (and the configuration page's issues).
  void openConfigFile(const QString& path);
  // File > Import Nsight Systems export without the dialog: `parm import-nsys FILE --db <project>`, progress
  // in the status bar; on success the imported run is selected, on failure parm's one line is the message.
  bool importNsysExport(const QString& exportFile);
  NsysImport* nsysImport() const { return nsysImport_; }
  // Shows run `runId` of the open project in the timeline, comparison and sweep; false (message bar) when it
  // cannot be shown. A validation run shows the run it measured. The timeline loads on a worker (progress in
  // the status bar); the comparison and sweep pages follow once it is loaded (loadPages), so the window
  // paints and answers while a big run loads.
  bool selectRun(qint64 runId);
  // True while the selected run is still loading into the timeline or the pages (loadingChanged follows).
  bool isLoading() const { return loadingRun_ != 0; }
  qint64 currentRun() const { return currentRun_; }

  // The message bar: the last message shown (empty when dismissed) and every message of this window.
  QString message() const;
  MessageBar* messageBar() const { return messageBar_; }
  QStringList messages() const { return messages_; }
  void showMessage(const QString& text, bool error = true);

  // Grabs each page as DIR/<page>.png (configure, timeline, comparison, sweep, calibration) and the timeline
  // with a range selected (timeline-selection.png); the one-line error or empty (main_screenshots.cpp).
  QString saveScreenshots(const QString& dir);

  Project* project() const { return project_; }
  ConfigPage* configPage() const { return config_; }
  LaunchPanel* launchPanel() const { return launch_; }
  TimelineWidget* timeline() const { return timeline_; }
  ComparisonPage* comparison() const { return compare_; }
  SweepPage* sweep() const { return sweep_; }
  CalibrationPage* calibration() const { return calibration_; }
  // Compare two runs (File > Compare two runs): created on first use, nullptr before.
  RunDiffPage* runDiff() const { return runDiff_; }
  // The selected run's verdict line in the status bar (empty until the comparison is loaded).
  QString verdictText() const;
  QTableView* runsView() const { return runsView_; }
  QDockWidget* runsDock() const { return runsDock_; }
  QTabWidget* tabs() const { return tabs_; }

 signals:
  void loadingChanged(bool loading);

 protected:
  void closeEvent(QCloseEvent* event) override;
  bool event(QEvent* event) override;

 private:
  void buildMenus();  // main_menus.cpp
  void showShortcutSheet();
  static QString documentationPath();
  void openConfig();
  void saveConfig();
  void newProject();
  void openProjectDialog();
  void importNsysDialog();
  void wireNsysImport();
  void fillRecentMenu();
  void exportTimelineImage();
  void projectOpened(const QString& path);
  void runsSelectionChanged();
  // The run the views show for `runId` (a validation report: the run it measured), read on the project's
  // connection (one row); 0 with *error set when there is no such run. Also puts the run's configuration
  // into Configure (showRunConfiguration).
  qint64 shownRunOf(qint64 runId, QString* error);
  void showRunConfiguration(qint64 runId, const std::string& configJson);
  void setLoadingRun(qint64 runId);
  // main_pages.cpp: what each page shows for the selected run and how the pages talk to each other.
  void wirePages();
  void loadPages(qint64 runId);
  void finishLoadingIfDone();
  bool isCalibrationRun(qint64 runId) const;
  bool showCalibration(qint64 runId);
  void setRunPagesEnabled(bool enabled);
  void selectBreakdownOps(const QString& schedule, int part);
  void showVerdict(const QString& summary);
  void openRunDiff();

  Project* project_;
  ConfigPage* config_;
  LaunchPanel* launch_;
  TimelineWidget* timeline_;
  ComparisonPage* compare_;
  SweepPage* sweep_;
  CalibrationPage* calibration_;
  QDialog* runDiffDialog_ = nullptr;
  RunDiffPage* runDiff_ = nullptr;
  QLabel* verdictLabel_ = nullptr;
  bool timelinePending_ = false;  // the selected run's timeline is still loading
  ExportActions* exports_;
  QTabWidget* tabs_;
  QTableView* runsView_;
  QDockWidget* runsDock_ = nullptr;
  MessageBar* messageBar_ = nullptr;
  QMenu* recentMenu_ = nullptr;
  QProgressBar* loadProgress_ = nullptr;
  QProgressBar* importProgress_ = nullptr;
  NsysImport* nsysImport_ = nullptr;
  QStringList messages_;
  qint64 currentRun_ = 0;
  qint64 launchedRun_ = 0;  // the newest run the current launch stored
  qint64 loadingRun_ = 0;   // the run selectRun is loading (0: none)
  bool selecting_ = false;  // selectRun() moves the runs view; its signal must not re-enter
  bool painted_ = false;
  std::vector<std::function<void()>> afterPaint_;
};

}  // namespace parm::app
