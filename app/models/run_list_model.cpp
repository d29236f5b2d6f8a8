#include "app/models/run_list_model.h"

#include <algorithm>
#include <unordered_map>

#include "app/models/tone.h"
#include "db/database.h"

namespace parm::app {

void RunListModel::refresh(const db::Database& db, bool countEvents) {
  std::unordered_map<std::int64_t, std::int64_t> cached;
  for (const Row& r : rows_)
    if (r.complete && r.events >= 0) cached.emplace(r.id, r.events);
  std::vector<Row> rows;
  for (const db::RunInfo& info : db.runs()) {
    Row r;
    r.id = info.id;
    r.name = QString::fromStdString(info.name);
    r.kind = QString::fromStdString(info.kind);
    r.started = QString::fromStdString(info.started_at);
    r.backend = QString::fromStdString(info.backend);
    r.ranks = info.ranks;
    r.complete = info.complete;
    const auto hit = cached.find(info.id);
    r.events = info.complete && hit != cached.end() ? hit->second
               : countEvents                        ? db.event_count(info.id)
                                                    : -1;
    rows.push_back(std::move(r));
  }
  std::sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.id < b.id; });
  setRows(std::move(rows));
}

void RunListModel::setRows(std::vector<Row> rows) {
  // Runs are only ever appended (ids grow) while a project is open; anything else is a reset.
  const bool prefix =
      rows.size() >= rows_.size() && std::equal(rows_.begin(), rows_.end(), rows.begin(),
                                                [](const Row& a, const Row& b) { return a.id == b.id; });
  std::vector<qint64> added, completed;
  if (!prefix) {
    beginResetModel();
    rows_ = std::move(rows);
    endResetModel();
    return;
  }
  for (std::size_t i = 0; i < rows_.size(); ++i) {
    if (rows_[i] == rows[i]) continue;
    if (!rows_[i].complete && rows[i].complete) completed.push_back(rows[i].id);
    rows_[i] = rows[i];
    const int r = static_cast<int>(i);
    emit dataChanged(index(r, 0), index(r, NUM_COLUMNS - 1));
  }
  if (rows.size() > rows_.size()) {
    const int first = static_cast<int>(rows_.size());
    beginInsertRows({}, first, static_cast<int>(rows.size()) - 1);
    for (std::size_t i = rows_.size(); i < rows.size(); ++i) added.push_back(rows[i].id);
    rows_ = std::move(rows);
    endInsertRows();
  }
  for (qint64 id : added) emit runAdded(id);
  for (qint64 id : completed) emit runCompleted(id);
}

std::vector<std::int64_t> RunListModel::runsToCount() const {
  std::vector<std::int64_t> ids;
  for (const Row& r : rows_)
    if (r.events < 0) ids.push_back(r.id);
  return ids;
}

void RunListModel::setEventCounts(const std::vector<std::pair<std::int64_t, std::int64_t>>& counts) {
  for (const auto& [id, events] : counts) {
    const int r = rowOfRun(id);
    if (r < 0 || rows_[static_cast<std::size_t>(r)].events == events) continue;
    rows_[static_cast<std::size_t>(r)].events = events;
    emit dataChanged(index(r, EventsColumn), index(r, EventsColumn));
  }
}

const RunListModel::Row* RunListModel::row(int r) const {
  return r >= 0 && r < rowCount() ? &rows_[static_cast<std::size_t>(r)] : nullptr;
}

int RunListModel::rowOfRun(std::int64_t id) const {
  const auto it =
      std::lower_bound(rows_.begin(), rows_.end(), id, [](const Row& r, std::int64_t v) { return r.id < v; });
  return it != rows_.end() && it->id == id ? static_cast<int>(it - rows_.begin()) : -1;
}

int RunListModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : static_cast<int>(rows_.size());
}

int RunListModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() ? 0 : NUM_COLUMNS;
}

QVariant RunListModel::data(const QModelIndex& index, int role) const {
  if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) return {};
  const Row& r = rows_[static_cast<std::size_t>(index.row())];
  switch (role) {
    case Qt::DisplayRole:
      switch (index.column()) {
        case IdColumn:
          return QVariant::fromValue<qlonglong>(r.id);
        case NameColumn:
          return r.name;
        case KindColumn:
          return r.kind;
        case RanksColumn:
          return r.ranks;
        case StatusColumn:
          return r.complete ? tr("complete") : tr("incomplete");
        case StartedColumn:
          return r.started;
        case EventsColumn:  // blank until counted
          return r.events < 0 ? QVariant() : QVariant::fromValue<qlonglong>(r.events);
      }
      return {};
    case Qt::TextAlignmentRole:
      return index.column() == IdColumn || index.column() == RanksColumn || index.column() == EventsColumn
                 ? QVariant(int(Qt::AlignRight | Qt::AlignVCenter))
                 : QVariant();
    case ToneRole:
      return index.column() == StatusColumn && !r.complete ? QVariant(int(Tone::Warning)) : QVariant();
    case Qt::ToolTipRole:
      return r.complete ? QVariant()
                        : QVariant(tr("Run %1 is still being written, or its process was killed").arg(r.id));
    case RunIdRole:
      return QVariant::fromValue<qlonglong>(r.id);
    case CompleteRole:
      return r.complete;
    case KindRole:
      return r.kind;
  }
  return {};
}

QVariant RunListModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || role != Qt::DisplayRole) return {};
  switch (section) {
    case IdColumn:
      return tr("Id");
    case NameColumn:
      return tr("Name");
    case KindColumn:
      return tr("Kind");
    case RanksColumn:
      return tr("Ranks");
    case StatusColumn:
      return tr("Status");
    case StartedColumn:
      return tr("Started");
    case EventsColumn:
      return tr("Events");
  }
  return {};
}

}  // namespace parm::app
