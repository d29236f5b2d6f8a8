// The comparison page of one run: the verdict banner on top (measured best with its speedup over B_DS and
// p10-p90, ties within noise, predicted best apart, and what it is for), the schedules table
// (ComparisonModel), the time breakdown as stacked bars (BreakdownChart), per-op deltas between two schedules
// or measured vs predicted with wait vs transfer (OpDeltaModel, filtered by the timeline's selection), and
// the recommendation with its reason (from the validation report that measured the run, else computed with a
// calibration file). setRun resolves the run with one cheap query; the comparison, per-op deltas, verdict and
// breakdown load on a worker (LatestJob: only the newest is shown, "Loading ..." meanwhile, loaded() when
// shown), and so does the recommendation, which runs the cost model.
#pragma once

#include <QString>
#include <QWidget>

#include "engine/model/run_comparison.h"
#include "engine/model/verdict.h"

class QComboBox;
class QGroupBox;
class QLabel;
class QTreeView;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;

namespace parm::app {

class BreakdownChart;
class ComparisonModel;
class ModelBlocksModel;
class LatestJob;
class OpDeltaModel;
struct ComparisonData;
struct RecommendationView;

class ComparisonPage : public QWidget {
  Q_OBJECT

 public:
  explicit ComparisonPage(QWidget* parent = nullptr);

  // Shows run `runId` of the project file (a validation run shows its first measured run). Resolves the run
  // at once (runId() is valid on return) and loads the rest on a worker (loaded() when shown). Returns false
  // and emits errorOccurred (one line) when the file or the run cannot be read; the page is then empty. A
  // run whose data cannot be read emits errorOccurred when the worker finds it.
  bool setRun(const QString& dbPath, qint64 runId);
  QString dbPath() const { return dbPath_; }
  qint64 runId() const { return runId_; }  // the run shown (measured), 0 when none
  bool loading() const;                    // the worker is reading the run

  // The calibration used when no validation report covers the run; recomputes the recommendation.
  void setCalibrationPath(const QString& path);
  QString calibrationPath() const { return calibrationPath_; }

  ComparisonModel* comparisonModel() const { return comparison_; }
  OpDeltaModel* opDeltaModel() const { return deltas_; }
  BreakdownChart* breakdownChart() const { return breakdown_; }
  // A whole-model run's blocks and their parts per schedule (empty and hidden for a layer run).
  ModelBlocksModel* modelBlocksModel() const { return blocks_; }
  bool modelBlocksShown() const;
  const parm::Verdict& verdict() const { return verdict_; }
  // The banner's text: "S1 recommended: 1.42x faster than B_DS (p10-p90 1.31-1.50x) · predicted best S1 ·
  // for ...", "Loading ..." while loading, empty without a run.
  QString verdictSummary() const { return verdictSummary_; }
  QString recommendedSchedule() const { return recommended_; }
  QString recommendationReason() const { return reason_; }
  // True while the recommendation of the current run and calibration is being computed; then
  // recommendationChanged carries it.
  bool recommendationPending() const;
  LatestJob* recommendationJob() const { return recommendationJob_; }
  LatestJob* loadJob() const { return loadJob_; }

 public Q_SLOTS:
  // A range of the run in run-origin ns: the per-op table keeps the events in it.
  void setTimeRange(qint64 startNs, qint64 endNs);
  // The timeline's selection, one run-origin range per schedule (one-iteration mode shifts each schedule).
  void setTimeRanges(const parm::ScheduleRanges& ranges);
  void clearTimeRange();

 Q_SIGNALS:
  void errorOccurred(const QString& message);
  void scheduleActivated(const QString& schedule);  // double-click on a schedule row
  void recommendationChanged(const QString& schedule, const QString& reason);
  void verdictChanged(const QString& summary);
  void loaded();  // the run's comparison, per-op deltas, verdict and breakdown are shown
  // A click on a breakdown segment: `part` is a parm::BreakdownPart value; `predicted`: the predicted bar.
  void breakdownSegmentActivated(const QString& schedule, int part, bool predicted);

 private:
  void clearPage();
  void showData(ComparisonData result);
  void updateVerdict();
  void updateRecommendation();
  void showRecommendation(const RecommendationView& view);
  void updateDeltaControls();
  void updateRangeLabel();
  void chooseCalibration();

  QString dbPath_;
  qint64 runId_ = 0;
  QString runName_;
  QString calibrationPath_;
  QString recommended_, reason_, recommendedCalibration_, recommendedCalibrationTime_;
  parm::Verdict verdict_;
  bool haveVerdict_ = false;
  QString verdictSummary_;

  ComparisonModel* comparison_;
  OpDeltaModel* deltas_;
  ModelBlocksModel* blocks_;
  QGroupBox* blocksBox_;
  QTreeView* blocksView_;
  LatestJob* recommendationJob_;
  LatestJob* loadJob_;
  QSortFilterProxyModel* comparisonProxy_;
  QSortFilterProxyModel* deltaProxy_;
  QLabel* title_;
  QLabel* verdictLabel_;
  QTableView* schedulesView_;
  BreakdownChart* breakdown_;
  QComboBox* mode_;
  QComboBox* scheduleA_;
  QComboBox* scheduleB_;
  QLabel* rangeLabel_;
  QPushButton* clearRange_;
  QTableView* deltaView_;
  QLabel* chosen_;
  QLabel* reasonLabel_;
  QLabel* source_;
  QPushButton* calibrationButton_;
};

}  // namespace parm::app
