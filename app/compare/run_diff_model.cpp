#include "app/compare/run_diff_model.h"

#include "app/models/tone.h"

namespace parm::app {
namespace {

// One unit per cell, chosen by the median: microsecond ops read as us, not 0.000 ms.
QString spreadCell(const parm::Spread& s) {
  if (s.n == 0) return QStringLiteral("-");
  const bool micro = s.p50 < 0.1;
  const double scale = micro ? 1000.0 : 1.0;
  const int digits = micro ? 1 : 3;
  return QStringLiteral("%1 (%2 - %3) %4")
      .arg(QString::number(s.p50 * scale, 'f', digits), QString::number(s.p10 * scale, 'f', digits),
           QString::number(s.p90 * scale, 'f', digits), micro ? QStringLiteral("us") : QStringLiteral("ms"));
}

}  // namespace

RunDiffModel::RunDiffModel(Rows rows, QObject* parent) : QAbstractTableModel(parent), kind_(rows) {}

void RunDiffModel::setDiff(const parm::RunDiff& diff) {
  beginResetModel();
  rows_ = kind_ == Rows::Schedules ? diff.schedules : diff.ops;
  endResetModel();
}

void RunDiffModel::clear() {
  beginResetModel();
  rows_.clear();
  endResetModel();
}

int RunDiffModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int RunDiffModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant RunDiffModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= rowCount() || index.column() >= ColumnCount) return {};
  const parm::DiffRow& r = rows_[static_cast<std::size_t>(index.row())];
  const auto op_text = [&](int part) -> QString {
    if (!r.op) return part == 1 ? QStringLiteral("fwd + bwd") : QStringLiteral("layer");
    if (part == 1) return std::get<1>(*r.op) == 0 ? QStringLiteral("fwd") : QStringLiteral("bwd");
    return QString::fromStdString(part == 2 ? std::get<2>(*r.op) : std::get<3>(*r.op));
  };
  if (role == Qt::DisplayRole || role == Qt::ToolTipRole) {
    switch (index.column()) {
      case Schedule:
        return QString::fromStdString(r.schedule);
      case Phase:
        return op_text(1);
      case Op:
        return op_text(2);
      case Purpose:
        return r.op ? op_text(3) : QString();
      case Before:
        return spreadCell(r.before);
      case After:
        return spreadCell(r.after);
      case Change:
        return r.change_pct ? QString::asprintf("%+.1f%%", *r.change_pct) : QStringLiteral("-");
      case Verdict:
        return QString::fromStdString(verdict_text(r));
      default:
        return {};
    }
  }
  if (role == ValueRole) {
    switch (index.column()) {
      case Before:
        return r.before.n ? QVariant(r.before.p50) : QVariant();
      case After:
        return r.after.n ? QVariant(r.after.p50) : QVariant();
      case Change:
        return r.change_pct ? QVariant(*r.change_pct) : QVariant();
      default:
        return data(index, Qt::DisplayRole);
    }
  }
  if (role == ToneRole && index.column() == Verdict && r.verdict == parm::DiffVerdict::Slower)
    return static_cast<int>(Tone::Warning);
  if (role == Qt::TextAlignmentRole && index.column() >= Before && index.column() <= Change)
    return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
  return {};
}

QVariant RunDiffModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case Schedule:
      return tr("Schedule");
    case Phase:
      return tr("Pass");
    case Op:
      return tr("Op");
    case Purpose:
      return tr("Purpose");
    case Before:
      return tr("Before: median (p10 - p90)");
    case After:
      return tr("After: median (p10 - p90)");
    case Change:
      return tr("Change");
    case Verdict:
      return tr("Verdict");
    default:
      return {};
  }
}

}  // namespace parm::app
