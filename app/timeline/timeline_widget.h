// The timeline area of the main window: the rank -> lane tree, the canvas and a toolbar (mode, layout,
// iteration, flow arrows, fit). Runs load on a worker thread; the GUI shows "Loading" meanwhile.
#pragma once

#include <QPointer>
#include <QWidget>
#include <functional>
#include <memory>
#include <vector>

#include "app/timeline/timeline_data.h"
#include "app/timeline/timeline_selection.h"

class QCheckBox;
class QComboBox;
class QHBoxLayout;
class QLabel;
class QSplitter;
class QThread;
class QTreeView;

namespace parm::app {

class TimelineLegend;
class TimelineOverview;
class TimelineRowModel;
class TimelineTreeState;
class TimelineInspector;
class TimelineRowModel;
class TimelineSearchBar;
class TimelineView;

class TimelineWidget : public QWidget {
  Q_OBJECT
 public:
  explicit TimelineWidget(QWidget* parent = nullptr);
  ~TimelineWidget() override;

  // Shows run `runId` of the project file, with the predictions stored against `predictionRunId` (a run of
  // kind "prediction" from `parm predict --db`), or against the run itself when -1. Checks the file and the
  // run at once and loads the events on a worker thread (runLoaded() follows). Returns false with a one-line
  // error naming the file (corrupt, foreign or newer file, no such run); returns true with *error set to a
  // notice when the run is incomplete (still being written or killed: what is stored so far is shown).
  bool openRun(const QString& dbPath, qint64 runId, QString* error = nullptr, qint64 predictionRunId = -1);
  bool isLoading() const { return loading_; }
  // PNG (or any raster format Qt writes) or SVG by suffix: a title line (file, run, schedules, mode,
  // iteration, visible range), the colour legend, then the tree and the canvas cut to the rows shown.
  bool exportImage(const QString& path, QString* error = nullptr);
  QString exportTitle() const;  // the title line of exportImage

  void setMode(TimelineMode mode);
  TimelineMode mode() const { return mode_; }
  void setSideBySide(bool on);
  bool sideBySide() const { return sideBySide_; }
  void setIterationChoice(int choice);  // >= 0 or kIterationMedian/Fastest/Slowest
  void setFlowsVisible(bool on);
  bool flowsVisible() const;
  void fitToView();
  void clearSelection();
  // Every rank (and predicted) node collapsed into one merged row, or everything expanded; kept across
  // rebuilds (mode, layout, iteration, the next run). Toolbar buttons, the tree's context menu, Ctrl+[ /
  // Ctrl+].
  void collapseAllRanks();
  void expandAllRows();
  QString notice() const;

  // Selection and inspection (timeline_widget_inspection.cpp). selectOps: highlights (like search matches,
  // the rest dimmed) the measured ops of `schedule` (empty: every schedule) shown in the current build for
  // which `which` is true, fits the view to them and returns how many; clearOpSelection() undoes it.
  int selectOps(const QString& schedule, std::function<bool(const TimelineEvent&)> which);
  void clearOpSelection();
  void revealEvent(EventRef event);  // scrolls its row into view, centres it and selects it
  TimelineInspector* inspector() const { return inspector_; }
  TimelineSearchBar* searchBar() const { return search_; }
  QCheckBox* flowsSelectedOnlyBox() const { return flowsSelectedBox_; }

  TimelineView* view() const { return view_; }
  TimelineRowModel* rowModel() const { return model_; }
  QTreeView* tree() const { return tree_; }
  TimelineLegend* legend() const { return legend_; }
  TimelineOverview* overview() const { return overview_; }  // shown in the whole-run mode only
  const TimelineData* timelineData() const { return data_.get(); }

 signals:
  void runLoaded(bool ok, const QString& message);
  // While a run loads on the worker: events read of those stored (delivered on the GUI thread).
  void loadProgress(qint64 done, qint64 total);
  // A time range in the run's measured time base (ns from the run origin, like events.start_ns): filter the
  // tables to it. rangeCleared(): show everything again.
  void rangeSelected(qint64 startNs, qint64 endNs);
  void rangeCleared();
  // The same selection as one run-origin range per schedule (each section's own offset in one-iteration
  // mode, the same range for all in whole-run mode): what the per-op tables filter by.
  void scheduleRangesSelected(const parm::ScheduleRanges& ranges);
  void eventSelected(parm::app::EventRef event);  // a click on the canvas or a search jump; invalid: cleared
  // The toolbar's layout and flow-arrow choices (also when set from the toolbar), for menus that mirror them.
  void sideBySideChanged(bool on);
  void flowsVisibleChanged(bool on);

 private:
  void rebuild();
  void relayoutRows();
  void finishLoad(std::shared_ptr<TimelineData> loaded, bool ok, const QString& error, int generation);
  void fillIterationChoices();
  void showData();  // the legend, overview and tree after a build
  void fitTreeColumns();
  // The flow option in `bar`, the search box in `findBar` and the panel under `canvas`; returns the body.
  QWidget* setUpInspection(QHBoxLayout* bar, QHBoxLayout* findBar, QWidget* canvas);
  void refreshInspection(bool newLoad);

  QComboBox* modeBox_ = nullptr;
  QComboBox* layoutBox_ = nullptr;
  QComboBox* iterationBox_ = nullptr;
  QCheckBox* flowsBox_ = nullptr;
  QLabel* notice_ = nullptr;
  QLabel* head_ = nullptr;
  TimelineLegend* legend_ = nullptr;
  TimelineOverview* overview_ = nullptr;
  TimelineTreeState* treeState_ = nullptr;
  QSplitter* splitter_ = nullptr;
  QTreeView* tree_ = nullptr;
  TimelineRowModel* model_ = nullptr;
  TimelineView* view_ = nullptr;
  TimelineInspector* inspector_ = nullptr;
  TimelineSearchBar* search_ = nullptr;
  QCheckBox* flowsSelectedBox_ = nullptr;

  std::shared_ptr<TimelineData> data_;
  QString dbPath_;
  std::vector<QPointer<QThread>> threads_;
  int generation_ = 0;
  bool loading_ = false;
  bool relayoutPending_ = false;
  TimelineMode mode_ = TimelineMode::Aligned;
  bool sideBySide_ = false;
  int iterationChoice_ = kIterationMedian;
  QString noticeText_;
};

}  // namespace parm::app
