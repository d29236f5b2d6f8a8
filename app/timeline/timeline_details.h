// The details panel of a clicked event: name -> value rows (op, schedule, rank, lane, iteration, phase,
// chunk, group, purpose, bytes, start, end, duration, measured vs predicted and, for a collective, the wait
// for the last member and the transfer, engine/model/collective_wait.h over the members of its flow, and the
// member ranks). Rows copy as "name<TAB>value" lines.
#pragma once

#include <QAbstractTableModel>
#include <QList>
#include <QString>
#include <optional>
#include <utility>
#include <vector>

#include "app/timeline/timeline_selection.h"
#include "engine/model/collective_wait.h"

class QModelIndex;

namespace parm::app {

class TimelineData;

// A measured collective's split on its own rank, with the ranks of its members; nullopt for an event that is
// no collective of two or more ranks.
struct CollectiveTiming {
  CollectiveSplit split;
  QList<int> memberRanks;  // ascending
  int lastRank = -1;       // the member that arrived last
};
std::optional<CollectiveTiming> collectiveTimingOf(const TimelineData& data, std::int32_t measured);
// The tooltip's line for a collective ("wait 1.2 us for rank 3, transfer 40.1 us"), empty for other events.
QString collectiveTipLine(const TimelineData& data, std::int32_t measured);

class TimelineDetailsModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { NameColumn, ValueColumn, ColumnCount };

  explicit TimelineDetailsModel(QObject* parent = nullptr);

  void show(const TimelineData* data, EventRef event);  // an invalid event (or no data): no rows
  void clear() { show(nullptr, {}); }
  EventRef event() const { return event_; }
  // The value of the row called `name`, empty if none.
  QString value(const QString& name) const;
  // The given rows (any column of each counts once) as "name<TAB>value" lines, in row order.
  QString textOf(const QList<QModelIndex>& indexes) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  EventRef event_;
  std::vector<std::pair<QString, QString>> rows_;
};

}  // namespace parm::app
