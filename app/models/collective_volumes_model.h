// Bytes per collective of every selected schedule, per GPU (engine/schedules/volumes.h: the spec's formulas),
// as a table. Empty while the configuration is invalid.
#pragma once

#include <QAbstractTableModel>
#include <optional>
#include <vector>

#include "engine/core/config.h"
#include "engine/schedules/volumes.h"

namespace parm::app {

class CollectiveVolumesModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column {
    ScheduleColumn,
    PassColumn,
    CollectiveColumn,
    GroupColumn,
    PurposeColumn,
    BytesColumn,
    WireBytesColumn,
    NUM_COLUMNS
  };
  enum Role { RawValueRole = Qt::UserRole + 1 };  // bytes as qint64, wire bytes as double

  using QAbstractTableModel::QAbstractTableModel;

  // The collectives of config.run.schedules in execution order; nullopt empties the table.
  void setConfig(const std::optional<Config>& config);
  // Sum of `bytes` over the collectives of schedule `name` ("S1", ...); -1 when that schedule is not listed.
  qint64 totalBytes(const QString& schedule) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  struct Row {
    ScheduleKind schedule;
    CollectiveVolume volume;
  };
  std::vector<Row> rows_;
};

}  // namespace parm::app
