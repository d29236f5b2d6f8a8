// One row per schedule of a stored run (engine compare_run): measured and predicted layer ms, error, measured
// speedup vs B_DS, bytes rank 0 moved intra/inter node, and which schedule is the predicted / measured best.
#pragma once

#include <QAbstractTableModel>
#include <QString>

#include "engine/model/run_comparison.h"

namespace parm::app {

class ComparisonModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { Schedule, Measured, Predicted, Error, Speedup, IntraBytes, InterBytes, Best, ColumnCount };
  // The raw value (double ms, %, x; qint64 bytes; invalid when absent) for sorting and scripts; DisplayRole
  // is formatted text.
  static constexpr int ValueRole = Qt::UserRole;

  explicit ComparisonModel(QObject* parent = nullptr);

  // Reads the run's comparison; returns the one-line error (and clears) on failure, empty on success.
  QString load(const QString& dbPath, qint64 runId);
  void setComparison(const parm::RunComparison& comparison);
  void clear();
  const parm::RunComparison& comparison() const { return comparison_; }
  QStringList schedules() const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  parm::RunComparison comparison_;
};

}  // namespace parm::app
