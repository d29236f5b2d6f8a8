// The nccl-tests table of one collective fit, as `parm calibrate` prints it: one row per measured size with
// size (B), count (fp32 elements), type, time (us), algbw = size / time and busbw = algbw * the collective's
// bus factor (engine/model/bus_bandwidth.h), in GB/s. Empty for a compute or overhead fit. Qt Core only;
// ValueRole holds the raw number.
#pragma once

#include <QAbstractTableModel>
#include <QString>

#include "engine/model/calibration.h"

namespace parm::app {

class NcclTableModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  enum Column { Size, Count, Type, Time, AlgBw, BusBw, ColumnCount };
  static constexpr int ValueRole = Qt::UserRole;

  explicit NcclTableModel(QObject* parent = nullptr);

  // The samples of `fit` when it is a collective; no rows otherwise (and for nullptr).
  void setFit(const CalibrationFit* fit);
  bool isCollective() const { return factor_ > 0; }
  double busFactor() const { return factor_; }
  // "alltoall on EP (2 ranks): busbw = algbw * (n-1)/n; size = send bytes per rank", or why there is no
  // table.
  QString caption() const { return caption_; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  std::vector<FitSample> samples_;
  double factor_ = 0;
  QString caption_;
};

}  // namespace parm::app
