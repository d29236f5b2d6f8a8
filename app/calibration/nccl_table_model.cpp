#include "app/calibration/nccl_table_model.h"

#include <array>

#include "engine/model/bus_bandwidth.h"

namespace parm::app {

NcclTableModel::NcclTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void NcclTableModel::setFit(const CalibrationFit* fit) {
  beginResetModel();
  samples_.clear();
  factor_ = 0;
  const auto kind = fit ? bus_collective_of(fit->op) : std::nullopt;
  if (!fit) {
    caption_ = tr("Select a fit");
  } else if (!kind) {
    caption_ = tr("%1 on %2 is not a collective: no bus bandwidth table")
                   .arg(QString::fromStdString(fit->op), QString::fromStdString(fit->communicator));
  } else {
    factor_ = bus_bandwidth_factor(*kind, fit->group_size);
    samples_ = fit->samples;
    caption_ = tr("%1 on %2 (%3 ranks): %4")
                   .arg(QString::fromStdString(fit->op), QString::fromStdString(fit->communicator))
                   .arg(fit->group_size)
                   .arg(QString::fromUtf8(bus_bandwidth_formula(*kind)));
    if (samples_.empty()) caption_ += tr(" (no samples stored)");
  }
  endResetModel();
}

int NcclTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(samples_.size());
}

int NcclTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant NcclTableModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  if (role == Qt::TextAlignmentRole) return int(Qt::AlignRight | Qt::AlignVCenter);
  if (role != Qt::DisplayRole && role != ValueRole) return {};
  const FitSample& s = samples_[std::size_t(index.row())];
  const bool value = role == ValueRole;
  // As nccl-tests: algbw = bytes / seconds / 1e9 (t is in ms).
  const double algbw = s.t > 0 ? s.n / (s.t * 1e-3) / 1e9 : 0.0;
  auto number = [&](double v, int decimals) {
    return value ? QVariant(v) : QVariant(QString::number(v, 'f', decimals));
  };
  switch (Column(index.column())) {
    case Size:
      return value ? QVariant(s.n) : QVariant(QString::number(qint64(s.n)));
    case Count:
      return value ? QVariant(s.n / 4) : QVariant(QString::number(qint64(s.n / 4)));
    case Type:
      return QStringLiteral("float");
    case Time:
      return number(s.t * 1e3, 2);
    case AlgBw:
      return number(algbw, 3);
    case BusBw:
      return number(algbw * factor_, 3);
    case ColumnCount:
      break;
  }
  return {};
}

QVariant NcclTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole || section < 0 || section >= ColumnCount)
    return {};
  static const std::array<const char*, ColumnCount> names = {"size (B)",  "count (elements)", "type",
                                                             "time (us)", "algbw (GB/s)",     "busbw (GB/s)"};
  return tr(names[std::size_t(section)]);
}

}  // namespace parm::app
