#include "app/compare/comparison_model.h"

#include <QFont>
#include <QLocale>
#include <exception>

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
  auto opt = [](const std::optional<double>& v) { return v ? QVariant(*v) : QVariant(); };
  if (role == ValueRole) {
    switch (index.column()) {
      case Schedule:
        return QString::fromStdString(s.schedule);
      case Measured:
        return opt(s.measured_ms);
      case Predicted:
        return opt(s.predicted_ms);
      case Error:
        return opt(s.error_pct);
      case Speedup:
        return opt(s.speedup_vs_bds);
      case IntraBytes:
        return QVariant::fromValue<qint64>(s.intra_bytes);
      case InterBytes:
        return QVariant::fromValue<qint64>(s.inter_bytes);
      case Best:
        return (predBest ? 1 : 0) + (measBest ? 2 : 0);
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
        return num(s.measured_ms, 3, "");
      case Predicted:
        return num(s.predicted_ms, 3, "");
      case Error:
        return num(s.error_pct, 1, " %");
      case Speedup:
        return num(s.speedup_vs_bds, 2, "x");
      case IntraBytes:
        return bytesText(s.intra_bytes);
      case InterBytes:
        return bytesText(s.inter_bytes);
      case Best:
        if (predBest && measBest) return tr("predicted + measured");
        if (predBest) return tr("predicted");
        if (measBest) return tr("measured");
        return QString();
      default:
        return {};
    }
  }
  if (role == Qt::FontRole && (predBest || measBest)) {
    QFont f;
    f.setBold(true);
    return f;
  }
  if (role == Qt::TextAlignmentRole && index.column() != Schedule && index.column() != Best)
    return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
  if (role == Qt::ToolTipRole && index.column() == Error) return tr("|predicted - measured| / measured");
  return {};
}

QVariant ComparisonModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case Schedule:
      return tr("Schedule");
    case Measured:
      return tr("Measured ms");
    case Predicted:
      return tr("Predicted ms");
    case Error:
      return tr("Error");
    case Speedup:
      return tr("Speedup vs B_DS");
    case IntraBytes:
      return tr("Bytes intra");
    case InterBytes:
      return tr("Bytes inter");
    case Best:
      return tr("Best");
    default:
      return {};
  }
}

}  // namespace parm::app
