// One row per schedule of a stored run (engine compare_run): measured layer time (p50) with its p10-p90 over
// iterations, predicted layer time, error, measured speedup vs B_DS with its p10-p90, bytes rank 0 moved
// intra/inter node, and, in two separate columns, the measured best (the noise rule: "tied within noise"
// marks the others tied with it) and the predicted best.
#pragma once

#include <QAbstractTableModel>
#include <QString>

#include "engine/model/run_comparison.h"

namespace parm::app {

class ComparisonModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column {
    Schedule,
    Measured,
    MeasuredP10,
    MeasuredP90,
    Predicted,
    Error,
    Speedup,
    SpeedupP10,
    SpeedupP90,
    IntraBytes,
    InterBytes,
    MeasuredBest,
    PredictedBest,
    ColumnCount
  };
  // The raw value (double ms, %, x; qint64 bytes; invalid when absent; MeasuredBest 2 best, 1 tied within
  // noise with it, 0; PredictedBest 1 or 0) for sorting and scripts; DisplayRole is formatted text.
  static constexpr int ValueRole = Qt::UserRole;

  explicit ComparisonModel(QObject* parent = nullptr);

  // Reads the run's comparison (the run's result, not its events); returns the one-line error (and clears) on
  // failure, empty on success.
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
