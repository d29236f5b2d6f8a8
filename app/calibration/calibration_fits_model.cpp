#include "app/calibration/calibration_fits_model.h"

#include <array>
#include <string_view>

#include "app/calibration/calibration_units.h"
#include "engine/model/bus_bandwidth.h"

namespace parm::app {
namespace {

// A compute fit at another dtype than the calibration's carries it as a suffix ("gemm_bf16").
QString dtypeOf(const CalibrationFit& f, DType calibrationDtype) {
  const std::size_t cut = f.op.rfind('_');
  if (cut != std::string::npos)
    if (const auto d = parse_dtype(std::string_view(f.op).substr(cut + 1)))
      return QString::fromUtf8(to_string(*d));
  return QString::fromUtf8(to_string(calibrationDtype));
}

QString dtypeShape(const CalibrationFit& f, DType calibrationDtype) {
  if (f.communicator != "local") return QStringLiteral("-");  // collectives move fp32 buffers
  QString text = dtypeOf(f, calibrationDtype);
  if (!f.shape.empty()) text += QStringLiteral(", ") + QString::fromStdString(f.shape);
  return text;
}

QString betaText(const CalibrationFit& f) {
  // ms per unit -> ns per unit: the unit's cost reads as a plain number.
  return QStringLiteral("%1 ns/%2").arg(f.fit.beta * 1e6, 0, 'g', 4).arg(sizeUnitOf(f));
}

}  // namespace

double bandwidthGBps(double betaMsPerByte) {
  return betaMsPerByte > 0 ? 1e-6 / betaMsPerByte : 0.0;
}

CalibrationFitsModel::CalibrationFitsModel(QObject* parent) : QAbstractTableModel(parent) {}

void CalibrationFitsModel::setCalibration(const Calibration& calibration) {
  beginResetModel();
  calibration_ = calibration;
  endResetModel();
}

void CalibrationFitsModel::clear() {
  setCalibration({});
}

const CalibrationFit* CalibrationFitsModel::fit(int row) const {
  if (row < 0 || row >= int(calibration_.fits.size())) return nullptr;
  return &calibration_.fits[std::size_t(row)];
}

int CalibrationFitsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : int(calibration_.fits.size());
}

int CalibrationFitsModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant CalibrationFitsModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const CalibrationFit& f = calibration_.fits[std::size_t(index.row())];
  const bool collective = bus_collective_of(f.op).has_value();
  if (role == Qt::TextAlignmentRole)
    return index.column() >= Ranks && index.column() != DtypeShape
               ? QVariant(int(Qt::AlignRight | Qt::AlignVCenter))
               : QVariant();
  if (role == Qt::ToolTipRole && index.column() == DtypeShape) return dtypeShape(f, calibration_.dtype);
  if (role == Qt::ToolTipRole && index.column() == Bandwidth && collective)
    return tr("1/beta: the bandwidth the fitted line tends to for large messages");
  if (role != Qt::DisplayRole && role != ValueRole) return {};
  const bool value = role == ValueRole;
  switch (Column(index.column())) {
    case Op:
      return QString::fromStdString(f.op);
    case Communicator:
      return QString::fromStdString(f.communicator);
    case Ranks:
      return f.group_size;
    case DtypeShape:
      return dtypeShape(f, calibration_.dtype);
    case Alpha:
      return value ? QVariant(f.fit.alpha) : QVariant(QString::number(f.fit.alpha * 1e3, 'f', 2));
    case Beta:
      return value ? QVariant(f.fit.beta) : QVariant(betaText(f));
    case Bandwidth:
      if (!collective) return value ? QVariant() : QVariant(QStringLiteral("-"));
      return value ? QVariant(bandwidthGBps(f.fit.beta))
                   : QVariant(QString::number(bandwidthGBps(f.fit.beta), 'f', 2));
    case R2:
      return value ? QVariant(f.fit.r2) : QVariant(QString::number(f.fit.r2, 'f', 3));
    case Samples:
      return f.fit.samples;
    case ColumnCount:
      break;
  }
  return {};
}

QVariant CalibrationFitsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount) return {};
  if (role == Qt::ToolTipRole && section == Beta)
    return tr("t = alpha + beta * n; n in bytes (collectives), multiply-adds (gemm) or elements");
  if (role != Qt::DisplayRole) return {};
  static const std::array<const char*, ColumnCount> names = {
      "Op", "Communicator", "Ranks", "Dtype / shape", "alpha (us)", "beta", "1/beta (GB/s)", "r2", "Samples"};
  return tr(names[std::size_t(section)]);
}

}  // namespace parm::app
