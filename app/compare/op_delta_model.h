// Per-op deltas of one run: rows = (phase, op, purpose), A and B, B - A and (B - A) / A, and for the
// collectives the measured wait for the last member and the transfer of each measured side (op_wait.h:
// median over iterations of the slowest rank's). A and B are two schedules' measured per-op times, or one
// schedule measured (A) vs predicted (B). Measured per-op times are the engine's (aggregate_measured_ops:
// slowest rank per iteration, median over iterations). A time range (run-origin ns) or one range per
// schedule (the timeline's selection: ScheduleRanges) keeps only the measured events overlapping it.
// Durations display in the unit that fits; an op absent on one side shows "-".
#pragma once

#include <QAbstractTableModel>
#include <QString>
#include <QStringList>
#include <map>
#include <optional>
#include <vector>

#include "engine/model/op_wait.h"
#include "engine/model/run_comparison.h"

namespace parm::app {

class OpDeltaModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum class Mode { SchedulesMeasured, MeasuredVsPredicted };
  enum Column { Phase, Op, Purpose, A, B, Delta, DeltaPct, WaitA, TransferA, WaitB, TransferB, ColumnCount };
  static constexpr int ValueRole = Qt::UserRole;  // raw double (ms, %); invalid where absent

  explicit OpDeltaModel(QObject* parent = nullptr);

  // Reads the run's measured events and stored predictions; returns the one-line error (and clears) on
  // failure, empty on success. Reads events: call it off the GUI thread or use setOps with loaded data.
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
  std::optional<parm::ScheduleRanges> timeRanges() const { return ranges_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 public Q_SLOTS:
  void setTimeRange(qint64 startNs, qint64 endNs);
  // One run-origin range per schedule; a schedule absent from `ranges` has nothing selected.
  void setTimeRanges(const parm::ScheduleRanges& ranges);
  void clearTimeRange();

 private:
  struct Row {
    int phase = 0;
    QString op, purpose;
    std::optional<double> a, b;  // absent where the op is not on that side
    std::optional<parm::WaitTransfer> splitA, splitB;
  };
  void aggregate();
  void rebuild();
  QString tooltip(const Row& r) const;

  parm::MeasuredOps measured_;
  std::map<parm::OpKey, double> predicted_;
  std::map<parm::OpKey, double> measuredAgg_;               // measured_ aggregated over the selection
  std::map<parm::OpKey, parm::WaitTransfer> waitTransfer_;  // the same, split into wait and transfer
  Mode mode_ = Mode::SchedulesMeasured;
  QString a_, b_;
  std::optional<parm::TimeRange> range_;
  std::optional<parm::ScheduleRanges> ranges_;
  std::vector<Row> rows_;
};

}  // namespace parm::app
