// The statistics table under the timeline, one model for two uses (Nsight's and Perfetto's "area selection"
// and the per-schedule op summary): per (schedule, op, lane) the count, sum, mean, min and max duration of
// the measured events (measured iterations only, as engine/model/run_comparison.h counts them).
// - Selection: the events overlapping the selected range of their schedule (ScheduleRanges: one run-origin
//   range per schedule, timeline_selection.h), whole durations like aggregate_measured_ops; the share column
//   is the part of the range's rank-time the op covers (durations clipped to the range).
// - Whole run: every event; the share column is "% of layer": the op's mean time per rank and iteration over
//   the schedule's layer time (its median iteration, first start to last end over all ranks).
// Numbers sort as numbers (SortRole) behind a QSortFilterProxyModel.
#pragma once

#include <QAbstractTableModel>
#include <QString>
#include <optional>
#include <vector>

#include "engine/model/run_comparison.h"

namespace parm::app {

class TimelineData;

class TimelineStatsModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { Schedule, Op, Lane, Count, Sum, Mean, Min, Max, Share, ColumnCount };
  enum class Scope { Selection, WholeRun };
  static constexpr int SortRole = Qt::UserRole + 1;

  struct Row {
    QString schedule, op, lane;
    qint64 count = 0;
    double sumNs = 0, minNs = 0, maxNs = 0;
    double sharePct = -1;  // < 0: not known (no layer time, empty range)
    double meanNs() const { return count > 0 ? sumNs / static_cast<double>(count) : 0; }
  };

  explicit TimelineStatsModel(QObject* parent = nullptr);

  void setTimeline(const TimelineData* data);  // nullptr: empty (while loading)
  void setRanges(const ScheduleRanges& ranges);
  void clearRanges();
  bool hasRanges() const { return ranges_.has_value(); }
  void setScope(Scope scope);
  Scope scope() const { return scope_; }
  const std::vector<Row>& statsRows() const { return rows_; }
  // The row of (schedule, op, lane), nullptr if none.
  const Row* find(const QString& schedule, const QString& op, const QString& lane) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  void recompute();

  const TimelineData* data_ = nullptr;
  std::optional<ScheduleRanges> ranges_;
  Scope scope_ = Scope::WholeRun;
  std::vector<Row> rows_;
};

}  // namespace parm::app
