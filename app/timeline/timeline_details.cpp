#include "app/timeline/timeline_details.h"

#include <QModelIndex>
#include <QStringList>
#include <algorithm>
#include <limits>
#include <set>

#include "app/timeline/timeline_data.h"
#include "app/timeline/timeline_format.h"

namespace parm::app {

std::optional<CollectiveTiming> collectiveTimingOf(const TimelineData& data, std::int32_t measured) {
  if (measured < 0 || static_cast<std::size_t>(measured) >= data.measured().size()) return std::nullopt;
  const TimelineEvent& e = data.measured()[static_cast<std::size_t>(measured)];
  const std::vector<std::int32_t> members = data.flowMembers(e.flow);
  if (members.size() < 2) return std::nullopt;
  CollectiveTiming out;
  std::int64_t lastArrival = std::numeric_limits<std::int64_t>::min();
  for (std::int32_t m : members) {
    const TimelineEvent& x = data.measured()[static_cast<std::size_t>(m)];
    out.memberRanks << x.rank;
    if (x.start_ns > lastArrival) {
      lastArrival = x.start_ns;
      out.lastRank = x.rank;
    }
  }
  std::sort(out.memberRanks.begin(), out.memberRanks.end());
  out.split = split_collective(e.start_ns, e.end_ns, lastArrival);
  return out;
}

QString collectiveTipLine(const TimelineData& data, std::int32_t measured) {
  const std::optional<CollectiveTiming> t = collectiveTimingOf(data, measured);
  if (!t) return {};
  return QStringLiteral("wait %1 for rank %2, transfer %3")
      .arg(formatDuration(static_cast<double>(t->split.wait_ns)))
      .arg(t->lastRank)
      .arg(formatDuration(static_cast<double>(t->split.transfer_ns)));
}

TimelineDetailsModel::TimelineDetailsModel(QObject* parent) : QAbstractTableModel(parent) {}

void TimelineDetailsModel::show(const TimelineData* data, EventRef event) {
  beginResetModel();
  rows_.clear();
  event_ = {};
  const TimelineEvent* e = data ? eventOf(*data, event) : nullptr;
  if (e) {
    event_ = event;
    const QStringList& s = data->strings();
    const TimelineSection& section = data->sections()[static_cast<std::size_t>(e->section)];
    auto add = [&](const QString& name, const QString& value) { rows_.emplace_back(name, value); };
    auto time = [](std::int64_t ns) { return formatDuration(static_cast<double>(ns)); };
    const double duration = static_cast<double>(e->end_ns - e->start_ns);
    add(tr("op"), s[e->op]);
    add(tr("schedule"), section.schedule);
    add(tr("rank"), event.predicted ? tr("predicted") : QString::number(e->rank));
    add(tr("lane"), data->laneName(e->rank, e->lane));
    add(tr("iteration"), QString::number(e->iteration));
    add(tr("phase"), e->phase == 0 ? tr("forward") : tr("backward"));
    add(tr("chunk"), e->chunk >= 0 ? QString::number(e->chunk) : QStringLiteral("-"));
    add(tr("group"), s[e->group]);
    add(tr("purpose"), s[e->purpose]);
    if (!event.predicted) add(tr("bytes"), formatBytes(e->bytes));
    // Shown times as on the ruler; measured events also in the run's own time base (events.start_ns).
    const QString origin = event.predicted ? QString() : tr(" (run %1)");
    add(tr("start"),
        time(data->displayStart(*e)) + (origin.isEmpty() ? QString() : origin.arg(time(e->start_ns))));
    add(tr("end"), time(data->displayEnd(*e)) + (origin.isEmpty() ? QString() : origin.arg(time(e->end_ns))));
    add(tr("duration"), formatDuration(duration));
    if (event.predicted) {
      add(tr("predicted"), formatDuration(duration));
    } else {
      add(tr("measured"), formatDuration(duration));
      if (e->match >= 0) {
        const TimelineEvent& p = data->predicted()[static_cast<std::size_t>(e->match)];
        const double pd = static_cast<double>(p.end_ns - p.start_ns);
        add(tr("predicted"), QStringLiteral("%1 (%2)").arg(formatDuration(pd), s[p.op]));
        if (duration > 0)
          add(tr("prediction error"),
              QStringLiteral("%1 %").arg((pd - duration) / duration * 100, 0, 'f', 1));
      } else {
        add(tr("predicted"), QStringLiteral("-"));
      }
      if (const std::optional<CollectiveTiming> t = collectiveTimingOf(*data, event.index)) {
        add(tr("wait"), tr("%1 (for rank %2, the last to arrive)")
                            .arg(formatDuration(static_cast<double>(t->split.wait_ns)))
                            .arg(t->lastRank));
        add(tr("transfer"), formatDuration(static_cast<double>(t->split.transfer_ns)));
        QStringList ranks;
        for (int r : t->memberRanks) ranks << QString::number(r);
        add(tr("member ranks"), ranks.join(QStringLiteral(", ")));
      }
    }
  }
  endResetModel();
}

QString TimelineDetailsModel::value(const QString& name) const {
  for (const auto& [n, v] : rows_)
    if (n == name) return v;
  return {};
}

QString TimelineDetailsModel::textOf(const QList<QModelIndex>& indexes) const {
  std::set<int> rows;
  for (const QModelIndex& i : indexes)
    if (i.isValid() && i.model() == this) rows.insert(i.row());
  QStringList lines;
  for (int r : rows) {
    const auto& [name, value] = rows_[static_cast<std::size_t>(r)];
    lines << name + QLatin1Char('\t') + value;
  }
  return lines.join(QLatin1Char('\n'));
}

int TimelineDetailsModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int TimelineDetailsModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : ColumnCount;
}

QVariant TimelineDetailsModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || index.row() >= static_cast<int>(rows_.size())) return {};
  if (role != Qt::DisplayRole && role != Qt::ToolTipRole) return {};
  const auto& [name, value] = rows_[static_cast<std::size_t>(index.row())];
  return index.column() == NameColumn ? name : value;
}

QVariant TimelineDetailsModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  if (section == NameColumn) return tr("Field");
  if (section == ValueColumn) return tr("Value");
  return {};
}

}  // namespace parm::app
