#include "app/compare/op_delta_model.h"

#include <exception>
#include <set>
#include <tuple>

#include "db/database.h"

namespace parm::app {

OpDeltaModel::OpDeltaModel(QObject* parent) : QAbstractTableModel(parent) {}

QString OpDeltaModel::load(const QString& dbPath, qint64 runId) {
  try {
    const auto db = db::Database::open(dbPath.toStdString(), false);
    if (!db.run(runId)) throw db::DbError(db.path() + ": no run " + std::to_string(runId));
    setOps(load_measured_ops(db, runId), predicted_ops(db, runId));
    return {};
  } catch (const std::exception& e) {
    clear();
    return QString::fromStdString(e.what()).replace(QLatin1Char('\n'), QLatin1Char(' '));
  }
}

void OpDeltaModel::setOps(parm::MeasuredOps measured, std::map<parm::OpKey, double> predicted) {
  measured_ = std::move(measured);
  predicted_ = std::move(predicted);
  measuredAgg_ = aggregate_measured_ops(measured_, range_);
  // Keep the chosen schedules when the new run has them; else default to the first two.
  const QStringList all = schedules();
  if (!all.contains(a_)) a_ = all.value(0);
  if (!all.contains(b_)) b_ = all.value(all.size() > 1 ? 1 : 0);
  rebuild();
}

void OpDeltaModel::clear() {
  setOps({}, {});
}

void OpDeltaModel::setMode(Mode mode) {
  if (mode == mode_) return;
  mode_ = mode;
  rebuild();
}

void OpDeltaModel::setSchedules(const QString& a, const QString& b) {
  a_ = a;
  b_ = b;
  rebuild();
}

QStringList OpDeltaModel::schedules() const {
  std::set<std::string> names;
  for (const auto& k : measured_.keys) names.insert(std::get<0>(k));
  for (const auto& [k, ms] : predicted_) names.insert(std::get<0>(k));
  // In kAllSchedules order, then anything else (imports) by name.
  QStringList out;
  for (ScheduleKind s : all_schedules())
    if (names.erase(std::string(to_string(s)))) out << QString::fromStdString(std::string(to_string(s)));
  for (const auto& n : names) out << QString::fromStdString(n);
  return out;
}

void OpDeltaModel::setTimeRange(qint64 startNs, qint64 endNs) {
  range_ = parm::TimeRange{std::min(startNs, endNs), std::max(startNs, endNs)};
  measuredAgg_ = aggregate_measured_ops(measured_, range_);
  rebuild();
}

void OpDeltaModel::clearTimeRange() {
  range_.reset();
  measuredAgg_ = aggregate_measured_ops(measured_);
  rebuild();
}

void OpDeltaModel::rebuild() {
  beginResetModel();
  rows_.clear();
  const std::string a = a_.toStdString();
  const std::string b = b_.toStdString();
  const auto& sideB = mode_ == Mode::SchedulesMeasured ? measuredAgg_ : predicted_;
  const std::string schedB = mode_ == Mode::SchedulesMeasured ? b : a;
  // (phase, op, purpose) -> row, over the union of both sides.
  std::map<std::tuple<int, std::string, std::string>, Row> rows;
  auto rowOf = [&](const parm::OpKey& k) -> Row& {
    Row& r = rows[{std::get<1>(k), std::get<2>(k), std::get<3>(k)}];
    r.phase = std::get<1>(k);
    r.op = QString::fromStdString(std::get<2>(k));
    r.purpose = QString::fromStdString(std::get<3>(k));
    return r;
  };
  for (const auto& [k, ms] : measuredAgg_)
    if (std::get<0>(k) == a) rowOf(k).a = ms;
  for (const auto& [k, ms] : sideB)
    if (std::get<0>(k) == schedB) rowOf(k).b = ms;
  for (auto& [k, r] : rows) rows_.push_back(r);
  endResetModel();
}

int OpDeltaModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int OpDeltaModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant OpDeltaModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const Row& r = rows_[static_cast<std::size_t>(index.row())];
  const double delta = r.b - r.a;
  const QVariant pct = r.a > 0 ? QVariant(100.0 * delta / r.a) : QVariant();
  if (role == ValueRole) {
    switch (index.column()) {
      case Phase:
        return r.phase;
      case Op:
        return r.op;
      case Purpose:
        return r.purpose;
      case A:
        return r.a;
      case B:
        return r.b;
      case Delta:
        return delta;
      case DeltaPct:
        return pct;
      default:
        return {};
    }
  }
  if (role == Qt::DisplayRole) {
    switch (index.column()) {
      case Phase:
        return r.phase == 0 ? tr("fwd") : tr("bwd");
      case Op:
        return r.op;
      case Purpose:
        return r.purpose;
      case A:
        return QString::number(r.a, 'f', 3);
      case B:
        return QString::number(r.b, 'f', 3);
      case Delta:
        return QString::asprintf("%+.3f", delta);
      case DeltaPct:
        return pct.isValid() ? QString::asprintf("%+.1f %%", pct.toDouble()) : QStringLiteral("-");
      default:
        return {};
    }
  }
  if (role == Qt::TextAlignmentRole && index.column() >= A)
    return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
  return {};
}

QVariant OpDeltaModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  const bool sched = mode_ == Mode::SchedulesMeasured;
  switch (section) {
    case Phase:
      return tr("Phase");
    case Op:
      return tr("Op");
    case Purpose:
      return tr("Purpose");
    case A:
      return sched ? tr("%1 ms").arg(a_) : tr("%1 measured ms").arg(a_);
    case B:
      return sched ? tr("%1 ms").arg(b_) : tr("%1 predicted ms").arg(a_);
    case Delta:
      return tr("Delta ms");
    case DeltaPct:
      return tr("Delta %");
    default:
      return {};
  }
}

}  // namespace parm::app
