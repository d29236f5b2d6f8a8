#include "app/timeline/timeline_row_model.h"

#include <limits>
#include <map>
#include <set>

#include "app/timeline/timeline_data.h"

namespace parm::app {

TimelineRowModel::TimelineRowModel(QObject* parent) : QAbstractItemModel(parent) {
  nodes_.emplace_back();
}

int TimelineRowModel::addNode(int parent, const QString& label, const QString& tip) {
  Node n;
  n.label = label;
  n.tip = tip.isEmpty() ? label : tip;
  n.parent = parent;
  n.indexInParent = static_cast<int>(nodes_[static_cast<std::size_t>(parent)].children.size());
  const int id = static_cast<int>(nodes_.size());
  nodes_.push_back(std::move(n));
  nodes_[static_cast<std::size_t>(parent)].children.push_back(id);
  return id;
}

// A rank's node says how its GPU capture went where the rank is labelled: a short note in the label, the
// whole status ("CUPTI unavailable: <reason>", dropped records, CUPTI's overhead) in the tooltip.
int TimelineRowModel::addRank(int parent, const TimelineData& data, int rank) {
  const QString label = tr("rank %1").arg(rank);
  const QString note = data.gpuCaptureNote(rank), tip = data.gpuCaptureTip(rank);
  return addNode(parent, note.isEmpty() ? label : tr("%1 (%2)").arg(label, note),
                 tip.isEmpty() ? label : tr("%1: %2").arg(label, tip));
}

void TimelineRowModel::rebuild(const TimelineData* data, bool sideBySide) {
  beginResetModel();
  nodes_.assign(1, Node{});
  columnTitles_.clear();
  sideBySide_ = sideBySide;
  if (data) {
    const auto& rows = data->rows();
    const auto& sections = data->sections();
    auto count = [&](int row) {
      return row < 0 ? 0 : static_cast<qint64>(rows[static_cast<std::size_t>(row)].event.size());
    };
    if (!sideBySide) {
      columnTitles_ << QString();
      int section = -1, sectionNode = 0, rankNode = 0, lastRank = -2;
      for (std::size_t i = 0; i < rows.size(); ++i) {
        const TimelineRow& r = rows[i];
        if (r.section != section) {
          section = r.section;
          const TimelineSection& s = sections[static_cast<std::size_t>(section)];
          const QString tip = s.chosenIteration >= 0 && data->mode() == TimelineMode::Aligned
                                  ? QStringLiteral("%1, iteration %2").arg(s.schedule).arg(s.chosenIteration)
                                  : s.schedule;
          sectionNode = addNode(0, s.schedule, tip);
          lastRank = -2;
        }
        if (r.rank != lastRank) {
          lastRank = r.rank;
          rankNode =
              r.predicted() ? addNode(sectionNode, tr("predicted")) : addRank(sectionNode, *data, r.rank);
        }
        const int leaf = addNode(rankNode, data->laneName(r.rank, r.lane));
        nodes_[static_cast<std::size_t>(leaf)].rows = {static_cast<int>(i)};
      }
    } else {
      std::set<std::pair<int, int>> lanes;  // (rank or INT_MAX for predicted, lane)
      for (const TimelineRow& r : rows)
        lanes.insert({r.predicted() ? std::numeric_limits<int>::max() : r.rank, r.lane});
      for (const TimelineSection& s : sections) columnTitles_ << s.schedule;
      int rankNode = 0, lastRank = -2;
      for (const auto& [rank, lane] : lanes) {
        const int realRank = rank == std::numeric_limits<int>::max() ? -1 : rank;
        if (rank != lastRank) {
          lastRank = rank;
          rankNode = realRank < 0 ? addNode(0, tr("predicted")) : addRank(0, *data, realRank);
        }
        const int leaf = addNode(rankNode, data->laneName(realRank, lane));
        for (std::size_t c = 0; c < sections.size(); ++c)
          nodes_[static_cast<std::size_t>(leaf)].rows.push_back(
              data->findRow(static_cast<int>(c), realRank, lane));
      }
    }
    // Event counts bottom-up (children always have larger ids than their parent), per column and in all.
    const std::size_t columns = static_cast<std::size_t>(std::max<qsizetype>(1, columnTitles_.size()));
    for (Node& node : nodes_) node.eventsPerColumn.assign(columns, 0);
    for (std::size_t n = nodes_.size(); n-- > 1;) {
      Node& node = nodes_[n];
      for (std::size_t c = 0; c < node.rows.size() && c < columns; ++c)
        node.eventsPerColumn[c] += count(node.rows[c]);
      for (qint64 e : node.eventsPerColumn) node.events += e;
      if (node.parent > 0) {
        Node& parent = nodes_[static_cast<std::size_t>(node.parent)];
        for (std::size_t c = 0; c < columns; ++c) parent.eventsPerColumn[c] += node.eventsPerColumn[c];
      }
    }
  }
  endResetModel();
}

int TimelineRowModel::nodeOf(const QModelIndex& index) const {
  return index.isValid() ? static_cast<int>(index.internalId()) : 0;
}

QModelIndex TimelineRowModel::index(int row, int column, const QModelIndex& parent) const {
  if (column < 0 || column >= ColumnCount || row < 0) return {};
  const Node& p = nodes_[static_cast<std::size_t>(nodeOf(parent))];
  if (row >= static_cast<int>(p.children.size())) return {};
  return createIndex(row, column, static_cast<quintptr>(p.children[static_cast<std::size_t>(row)]));
}

QModelIndex TimelineRowModel::parent(const QModelIndex& child) const {
  if (!child.isValid()) return {};
  const int p = nodes_[static_cast<std::size_t>(nodeOf(child))].parent;
  if (p <= 0) return {};
  return createIndex(nodes_[static_cast<std::size_t>(p)].indexInParent, 0, static_cast<quintptr>(p));
}

int TimelineRowModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid() && parent.column() != 0) return 0;
  return static_cast<int>(nodes_[static_cast<std::size_t>(nodeOf(parent))].children.size());
}

int TimelineRowModel::columnCount(const QModelIndex&) const {
  return ColumnCount;
}

QVariant TimelineRowModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid()) return {};
  const Node& n = nodes_[static_cast<std::size_t>(nodeOf(index))];
  switch (role) {
    case Qt::DisplayRole:
      if (index.column() == LabelColumn) return n.label;
      return sideBySide_ && n.eventsPerColumn.size() > 1 ? QVariant(eventsText(n)) : QVariant(n.events);
    case Qt::ToolTipRole:
      if (index.column() == EventsColumn && sideBySide_) {
        QStringList parts;
        for (std::size_t c = 0; c < n.eventsPerColumn.size(); ++c)
          parts << tr("%1: %2 events")
                       .arg(columnTitles_.value(static_cast<qsizetype>(c)))
                       .arg(n.eventsPerColumn[c]);
        return parts.join(QLatin1Char('\n'));
      }
      return n.tip;
    case EventsPerColumnRole: {
      QVariantList out;
      for (qint64 e : n.eventsPerColumn) out << e;
      return out;
    }
    case Qt::TextAlignmentRole:
      return index.column() == EventsColumn ? QVariant(Qt::AlignRight | Qt::AlignVCenter) : QVariant();
    case DataRowRole:
      return !sideBySide_ && n.rows.size() == 1 ? QVariant(n.rows.front()) : QVariant();
    default:
      return {};
  }
}

QVariant TimelineRowModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  return section == LabelColumn ? tr("Row") : tr("Events");
}

// Side by side every schedule has its own count, in column order; stacked the node's total.
QString TimelineRowModel::eventsText(const Node& n) const {
  if (!sideBySide_ || n.eventsPerColumn.size() < 2) return QString::number(n.events);
  QStringList parts;
  for (qint64 e : n.eventsPerColumn) parts << QString::number(e);
  return parts.join(QStringLiteral(" / "));
}

bool TimelineRowModel::isLeaf(const QModelIndex& index) const {
  return index.isValid() && nodes_[static_cast<std::size_t>(nodeOf(index))].children.empty();
}

void TimelineRowModel::collect(int node, std::vector<std::vector<int>>& out) const {
  const Node& n = nodes_[static_cast<std::size_t>(node)];
  for (std::size_t c = 0; c < n.rows.size() && c < out.size(); ++c)
    if (n.rows[c] >= 0) out[c].push_back(n.rows[c]);
  for (int child : n.children) collect(child, out);
}

std::vector<std::vector<int>> TimelineRowModel::rowsUnder(const QModelIndex& index) const {
  std::vector<std::vector<int>> out(static_cast<std::size_t>(std::max(1, timeColumns())));
  collect(nodeOf(index), out);
  return out;
}

QModelIndex TimelineRowModel::indexOfDataRow(int row) const {
  if (sideBySide_) return {};
  for (std::size_t n = 1; n < nodes_.size(); ++n)
    if (nodes_[n].rows.size() == 1 && nodes_[n].rows.front() == row)
      return createIndex(nodes_[n].indexInParent, 0, static_cast<quintptr>(n));
  return {};
}

}  // namespace parm::app
