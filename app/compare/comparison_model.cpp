#include "app/compare/comparison_model.h"

#include <QFont>
#include <QLocale>
#include <algorithm>
#include <exception>

#include "app/compare/duration_text.h"
#include "db/database.h"

namespace parm::app {
namespace {

QString bytesText(qint64 bytes) {
  return QLocale::system().formattedDataSize(bytes, 2, QLocale::DataSizeIecFormat);
}

QString oneLine(QString s) {
  return s.replace(QLatin1Char('\n'), QLatin1Char(' ')).trimmed();
}

}  // namespace

ComparisonModel::ComparisonModel(QObject* parent) : QAbstractTableModel(parent) {}

QString ComparisonModel::load(const QString& dbPath, qint64 runId) {
  try {
    const auto db = db::Database::open(dbPath.toStdString(), false);
    setComparison(compare_run(db, runId));
    return {};
  } catch (const std::exception& e) {
    clear();
    return oneLine(QString::fromStdString(e.what()));
  }
}

void ComparisonModel::setComparison(const parm::RunComparison& comparison) {
  beginResetModel();
  comparison_ = comparison;
  endResetModel();
}

void ComparisonModel::clear() {
  setComparison({});
}

QStringList ComparisonModel::schedules() const {
  QStringList out;
  for (const auto& s : comparison_.schedules) out << QString::fromStdString(s.schedule);
  return out;
}

int ComparisonModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(comparison_.schedules.size());
}

int ComparisonModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant ComparisonModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const ScheduleComparison& s = comparison_.schedules[static_cast<std::size_t>(index.row())];
  const bool predBest = comparison_.predicted_best && *comparison_.predicted_best == s.schedule;
  const bool measBest = comparison_.measured_best && *comparison_.measured_best == s.schedule;
  const auto& tiedList = comparison_.measured_tied;
  const bool tied =
      tiedList.size() > 1 && std::find(tiedList.begin(), tiedList.end(), s.schedule) != tiedList.end();
  auto opt = [](const std::optional<double>& v) { return v ? QVariant(*v) : QVariant(); };
  auto spreadOf = [](const Spread& sp, double Spread::*field) {
    return sp.n > 0 ? std::optional<double>(sp.*field) : std::nullopt;
  };
  const std::optional<double> p10 = spreadOf(s.measured_spread, &Spread::p10),
                              p90 = spreadOf(s.measured_spread, &Spread::p90),
                              sp10 = spreadOf(s.speedup_spread, &Spread::p10),
                              sp90 = spreadOf(s.speedup_spread, &Spread::p90);
  if (role == ValueRole) {
    switch (index.column()) {
      case Schedule:
        return QString::fromStdString(s.schedule);
      case Measured:
        return opt(s.measured_ms);
      case MeasuredP10:
        return opt(p10);
      case MeasuredP90:
        return opt(p90);
      case Predicted:
        return opt(s.predicted_ms);
      case Error:
        return opt(s.error_pct);
      case Speedup:
        return opt(s.speedup_vs_bds);
      case SpeedupP10:
        return opt(sp10);
      case SpeedupP90:
        return opt(sp90);
      case IntraBytes:
        return QVariant::fromValue<qint64>(s.intra_bytes);
      case InterBytes:
        return QVariant::fromValue<qint64>(s.inter_bytes);
      case MeasuredBest:
        return measBest ? 2 : tied ? 1 : 0;
      case PredictedBest:
        return predBest ? 1 : 0;
      default:
        return {};
    }
  }
  if (role == Qt::DisplayRole) {
    auto num = [](const std::optional<double>& v, int decimals, const char* suffix) {
      return v ? QString::number(*v, 'f', decimals) + QLatin1String(suffix) : QStringLiteral("-");
    };
    switch (index.column()) {
      case Schedule:
        return QString::fromStdString(s.schedule);
      case Measured:
        return durationText(s.measured_ms);
      case MeasuredP10:
        return durationText(p10);
      case MeasuredP90:
        return durationText(p90);
      case Predicted:
        return durationText(s.predicted_ms);
      case Error:
        return num(s.error_pct, 1, " %");
      case Speedup:
        return num(s.speedup_vs_bds, 2, "x");
      case SpeedupP10:
        return num(sp10, 2, "x");
      case SpeedupP90:
        return num(sp90, 2, "x");
      case IntraBytes:
        return bytesText(s.intra_bytes);
      case InterBytes:
        return bytesText(s.inter_bytes);
      case MeasuredBest:
        return measBest ? (tied ? tr("best (tied)") : tr("best"))
               : tied   ? tr("tied within noise")
                        : QString();
      case PredictedBest:
        return predBest ? tr("predicted best") : QString();
      default:
        return {};
    }
  }
  if (role == Qt::FontRole &&
      ((measBest && index.column() != PredictedBest) || (predBest && index.column() == PredictedBest))) {
    QFont f;
    f.setBold(true);
    return f;
  }
  if (role == Qt::TextAlignmentRole && index.column() != Schedule && index.column() != MeasuredBest &&
      index.column() != PredictedBest)
    return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
  if (role == Qt::ToolTipRole) {
    switch (index.column()) {
      case Error:
        return tr("|predicted - measured| / measured");
      case Measured:
      case MeasuredP10:
      case MeasuredP90:
        return tr("Layer time over %1 iterations (slowest rank per iteration): p50, p10, p90")
            .arg(s.measured_spread.n);
      case SpeedupP10:
      case SpeedupP90:
        return tr("Speedup over B_DS, pessimistic (B_DS p10 / this p90) to optimistic (B_DS p90 / this p10)");
      case MeasuredBest:
        return tr(
            "Fastest median; schedules whose p10-p90 overlap it are tied within noise: a tie with B_DS "
            "keeps B_DS (nothing measurably beats it), any other tie goes by the registry order (unfused "
            "first, S1 before S2)");
      case PredictedBest:
        return tr("Fastest predicted layer time (cost model with the run's calibration)");
      default:
        return {};
    }
  }
  return {};
}

QVariant ComparisonModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case Schedule:
      return tr("Schedule");
    case Measured:
      return tr("Measured p50");
    case MeasuredP10:
      return tr("p10");
    case MeasuredP90:
      return tr("p90");
    case Predicted:
      return tr("Predicted");
    case Error:
      return tr("Error");
    case Speedup:
      return tr("Speedup vs B_DS");
    case SpeedupP10:
      return tr("Speedup p10");
    case SpeedupP90:
      return tr("Speedup p90");
    case IntraBytes:
      return tr("Bytes intra");
    case InterBytes:
      return tr("Bytes inter");
    case MeasuredBest:
      return tr("Measured best");
    case PredictedBest:
      return tr("Predicted best");
    default:
      return {};
  }
}

}  // namespace parm::app
