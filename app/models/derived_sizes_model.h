// The sizes the engine derives from a valid configuration (engine/core/sizes.h: S, degrees, capacities
// C0..C2, dispatched tensors D0..D2) as a table of symbol, value and meaning. Empty while the configuration
// is invalid.
#pragma once

#include <QAbstractTableModel>
#include <QString>
#include <optional>
#include <vector>

#include "engine/core/config.h"

namespace parm::app {

class DerivedSizesModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column { SymbolColumn, ValueColumn, MeaningColumn, NUM_COLUMNS };
  enum Role { RawValueRole = Qt::UserRole + 1 };

  using QAbstractTableModel::QAbstractTableModel;

  // nullopt (an invalid configuration) empties the table; the config must pass validate() otherwise.
  void setConfig(const std::optional<Config>& config);
  // The value of `symbol` ("C0", "D1", "N_EP", ...), or -1 when absent.
  qint64 value(const QString& symbol) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  struct Row {
    QString symbol;
    qint64 value = 0;
    QString meaning;
  };
  std::vector<Row> rows_;
};

}  // namespace parm::app
