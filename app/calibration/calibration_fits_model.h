// One row per fit of a calibration: op, communicator, ranks in the group, dtype / shape of compute fits,
// alpha (us), beta (per unit of n), 1/beta as GB/s for collectives, r2 and the number of sizes measured.
// Qt Core only; ValueRole holds the raw number (ms, ms per unit, GB/s) where a column is numeric.
#pragma once

#include <QAbstractTableModel>

#include "engine/model/calibration.h"

namespace parm::app {

class CalibrationFitsModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { Op, Communicator, Ranks, DtypeShape, Alpha, Beta, Bandwidth, R2, Samples, ColumnCount };
  static constexpr int ValueRole = Qt::UserRole;

  explicit CalibrationFitsModel(QObject* parent = nullptr);

  void setCalibration(const Calibration& calibration);
  void clear();
  const Calibration& calibration() const { return calibration_; }
  // The fit of `row`, nullptr outside the rows.
  const CalibrationFit* fit(int row) const;

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  Calibration calibration_;
};

// 1/beta in GB/s (beta in ms per byte); 0 for a zero slope.
double bandwidthGBps(double betaMsPerByte);

}  // namespace parm::app
