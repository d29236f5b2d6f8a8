#include "app/compare/op_delta_model.h"

#include <exception>
#include <set>
#include <tuple>

#include "app/compare/duration_text.h"
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
  // Keep the chosen schedules when the new run has them; else default to the first two.
  const QStringList all = schedules();
  if (!all.contains(a_)) a_ = all.value(0);
  if (!all.contains(b_)) b_ = all.value(all.size() > 1 ? 1 : 0);
  aggregate();
  rebuild();
}

void OpDeltaModel::clear() {
  setOps({}, {});
}

void OpDeltaModel::setMode(Mode mode) {
  if (mode == mode_) return;
  mode_ = mode;
  rebuild();
  emit headerDataChanged(Qt::Horizontal, 0, ColumnCount - 1);
}

void OpDeltaModel::setSchedules(const QString& a, const QString& b) {
  a_ = a;
  b_ = b;
  rebuild();
  emit headerDataChanged(Qt::Horizontal, 0, ColumnCount - 1);
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
  ranges_.reset();
  aggregate();
  rebuild();
}

void OpDeltaModel::setTimeRanges(const parm::ScheduleRanges& ranges) {
  ranges_ = ranges;
  range_.reset();
  aggregate();
  rebuild();
}

void OpDeltaModel::clearTimeRange() {
  range_.reset();
  ranges_.reset();
  aggregate();
  rebuild();
}

void OpDeltaModel::aggregate() {
  if (ranges_) {
    measuredAgg_ = aggregate_measured_ops(measured_, *ranges_);
    waitTransfer_ = aggregate_wait_transfer(measured_, *ranges_);
  } else {
    measuredAgg_ = aggregate_measured_ops(measured_, range_);
    waitTransfer_ = aggregate_wait_transfer(measured_, range_);
  }
}

void OpDeltaModel::rebuild() {
  beginResetModel();
  rows_.clear();
  const std::string a = a_.toStdString();
  const std::string b = b_.toStdString();
  const bool schedulesMode = mode_ == Mode::SchedulesMeasured;
  const auto& sideB = schedulesMode ? measuredAgg_ : predicted_;
  const std::string schedB = schedulesMode ? b : a;
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
  for (const auto& [k, split] : waitTransfer_) {
    if (std::get<0>(k) == a) rowOf(k).splitA = split;
    if (schedulesMode && std::get<0>(k) == b) rowOf(k).splitB = split;
  }
  for (auto& [k, r] : rows) rows_.push_back(r);
  endResetModel();
}

int OpDeltaModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int OpDeltaModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QString OpDeltaModel::tooltip(const Row& r) const {
  const bool schedulesMode = mode_ == Mode::SchedulesMeasured;
  auto side = [](const QString& who, const std::optional<double>& ms,
                 const std::optional<parm::WaitTransfer>& split) {
    QString s = who + QStringLiteral(": ") + durationText(ms);
    if (ms && split)
      s += tr(" = wait for the last member %1 + transfer %2")
               .arg(durationText(split->wait_ms), durationText(split->transfer_ms));
    return s;
  };
  QString out = QStringLiteral("%1 %2 (%3)").arg(r.op, r.purpose, r.phase == 0 ? tr("fwd") : tr("bwd"));
  out += QLatin1Char('\n') + side(schedulesMode ? a_ : tr("%1 measured").arg(a_), r.a, r.splitA);
  out += QLatin1Char('\n') +
         side(schedulesMode ? b_ : tr("%1 predicted").arg(a_), r.b, schedulesMode ? r.splitB : std::nullopt);
  if (!r.a || !r.b) out += QLatin1Char('\n') + tr("absent on one side: no delta");
  return out;
}

QVariant OpDeltaModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const Row& r = rows_[static_cast<std::size_t>(index.row())];
  const double delta = r.b.value_or(0) - r.a.value_or(0);
  const std::optional<double> pct =
      r.a && *r.a > 0 && r.b ? std::optional<double>(100.0 * delta / *r.a) : std::nullopt;
  auto opt = [](const std::optional<double>& v) { return v ? QVariant(*v) : QVariant(); };
  auto wait = [](const std::optional<parm::WaitTransfer>& s) {
    return s ? std::optional<double>(s->wait_ms) : std::nullopt;
  };
  auto transfer = [](const std::optional<parm::WaitTransfer>& s) {
    return s ? std::optional<double>(s->transfer_ms) : std::nullopt;
  };
  if (role == ValueRole) {
    switch (index.column()) {
      case Phase:
        return r.phase;
      case Op:
        return r.op;
      case Purpose:
        return r.purpose;
      case A:
        return opt(r.a);
      case B:
        return opt(r.b);
      case Delta:
        return delta;  // an absent side counts as 0 for sorting
      case DeltaPct:
        return opt(pct);
      case WaitA:
        return opt(wait(r.splitA));
      case TransferA:
        return opt(transfer(r.splitA));
      case WaitB:
        return opt(wait(r.splitB));
      case TransferB:
        return opt(transfer(r.splitB));
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
        return durationText(r.a);
      case B:
        return durationText(r.b);
      case Delta:
        return r.a && r.b ? durationText(delta, true) : QStringLiteral("-");
      case DeltaPct:
        return pct ? QString::asprintf("%+.1f %%", *pct) : QStringLiteral("-");
      case WaitA:
        return durationText(wait(r.splitA));
      case TransferA:
        return durationText(transfer(r.splitA));
      case WaitB:
        return durationText(wait(r.splitB));
      case TransferB:
        return durationText(transfer(r.splitB));
      default:
        return {};
    }
  }
  if (role == Qt::ToolTipRole) return tooltip(r);
  if (role == Qt::TextAlignmentRole && index.column() >= A)
    return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
  return {};
}

QVariant OpDeltaModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  const bool sched = mode_ == Mode::SchedulesMeasured;
  const QString b = sched ? b_ : tr("%1 predicted").arg(a_);
  switch (section) {
    case Phase:
      return tr("Phase");
    case Op:
      return tr("Op");
    case Purpose:
      return tr("Purpose");
    case A:
      return sched ? a_ : tr("%1 measured").arg(a_);
    case B:
      return b;
    case Delta:
      return tr("Delta");
    case DeltaPct:
      return tr("Delta %");
    case WaitA:
      return tr("%1 wait").arg(a_);
    case TransferA:
      return tr("%1 transfer").arg(a_);
    case WaitB:
      return tr("%1 wait").arg(b);
    case TransferB:
      return tr("%1 transfer").arg(b);
    default:
      return {};
  }
}

}  // namespace parm::app
