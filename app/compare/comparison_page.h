// The comparison page of one run: the schedules table (ComparisonModel), per-op deltas between two schedules
// or measured vs predicted (OpDeltaModel, filtered by the timeline's range selection), and the recommendation
// with its reason (from the validation report that measured the run, else computed with a calibration file).
// The recommendation runs the cost model, so it is computed on a worker (LatestJob): only the newest result
// is shown, and the page stays responsive while it is computed.
#pragma once

#include <QString>
#include <QWidget>

class QComboBox;
class QLabel;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;

namespace parm::app {

class ComparisonModel;
class LatestJob;
class OpDeltaModel;
struct RecommendationView;

class ComparisonPage : public QWidget {
  Q_OBJECT

 public:
  explicit ComparisonPage(QWidget* parent = nullptr);

  // Shows run `runId` of the project file (a validation run shows its first measured run). Returns false and
  // emits errorOccurred (one line) when the file or the run cannot be read; the page is then empty.
  bool setRun(const QString& dbPath, qint64 runId);
  QString dbPath() const { return dbPath_; }
  qint64 runId() const { return runId_; }  // the run shown (measured), 0 when none

  // The calibration used when no validation report covers the run; recomputes the recommendation.
  void setCalibrationPath(const QString& path);
  QString calibrationPath() const { return calibrationPath_; }

  ComparisonModel* comparisonModel() const { return comparison_; }
  OpDeltaModel* opDeltaModel() const { return deltas_; }
  QString recommendedSchedule() const { return recommended_; }
  QString recommendationReason() const { return reason_; }
  // True while the recommendation of the current run and calibration is being computed; then
  // recommendationChanged carries it.
  bool recommendationPending() const;
  LatestJob* recommendationJob() const { return recommendationJob_; }

 public Q_SLOTS:
  // A range of the run in run-origin ns (the timeline's selection): the per-op table keeps the events in it.
  void setTimeRange(qint64 startNs, qint64 endNs);
  void clearTimeRange();

 Q_SIGNALS:
  void errorOccurred(const QString& message);
  void scheduleActivated(const QString& schedule);  // double-click on a schedule row
  void recommendationChanged(const QString& schedule, const QString& reason);

 private:
  void updateRecommendation();
  void showRecommendation(const RecommendationView& view);
  void updateDeltaControls();
  void updateRangeLabel();
  void chooseCalibration();

  QString dbPath_;
  qint64 runId_ = 0;
  QString calibrationPath_;
  QString recommended_, reason_;

  ComparisonModel* comparison_;
  OpDeltaModel* deltas_;
  LatestJob* recommendationJob_;
  QSortFilterProxyModel* comparisonProxy_;
  QSortFilterProxyModel* deltaProxy_;
  QLabel* title_;
  QTableView* schedulesView_;
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
