// Per-op deltas of one run: rows = (phase, op, purpose), A and B in ms, B - A and (B - A) / A. A and B are
// two schedules' measured per-op times, or one schedule measured (A) vs predicted (B). Measured per-op times
// are the engine's (aggregate_measured_ops: slowest rank per iteration, median over iterations); a time range
// (the timeline's selection, run-origin ns) keeps only the measured events overlapping it.
#pragma once

#include <QAbstractTableModel>
#include <QString>
#include <QStringList>
#include <map>
#include <optional>
#include <vector>

#include "engine/model/run_comparison.h"

namespace parm::app {

class OpDeltaModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum class Mode { SchedulesMeasured, MeasuredVsPredicted };
  enum Column { Phase, Op, Purpose, A, B, Delta, DeltaPct, ColumnCount };
  static constexpr int ValueRole = Qt::UserRole;  // raw double (ms, %); invalid for a missing %

  explicit OpDeltaModel(QObject* parent = nullptr);

  // Reads the run's measured events and stored predictions; returns the one-line error (and clears) on
  // failure, empty on success.
  QString load(const QString& dbPath, qint64 runId);
  void setOps(parm::MeasuredOps measured, std::map<parm::OpKey, double> predicted);
  void clear();

  void setMode(Mode mode);
  Mode mode() const { return mode_; }
  // SchedulesMeasured: A and B; MeasuredVsPredicted: only `a` is used.
  void setSchedules(const QString& a, const QString& b);
  QString scheduleA() const { return a_; }
  QString scheduleB() const { return b_; }
  QStringList schedules() const;  // every schedule measured or predicted in the run

  std::optional<parm::TimeRange> timeRange() const { return range_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 public Q_SLOTS:
  void setTimeRange(qint64 startNs, qint64 endNs);
  void clearTimeRange();

 private:
  struct Row {
    int phase = 0;
    QString op, purpose;
    double a = 0, b = 0;  // 0 where the op is absent on that side
  };
  void rebuild();

  parm::MeasuredOps measured_;
  std::map<parm::OpKey, double> predicted_;
  std::map<parm::OpKey, double> measuredAgg_;  // measured_ aggregated over range_
  Mode mode_ = Mode::SchedulesMeasured;
  QString a_, b_;
  std::optional<parm::TimeRange> range_;
  std::vector<Row> rows_;
};

}  // namespace parm::app
