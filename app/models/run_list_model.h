// The runs of one project file as a table (id, name, kind, ranks, status, started, events). Refreshing
// re-reads the database and updates rows in place, so a view keeps its selection while another process adds
// runs.
#pragma once

#include <QAbstractTableModel>
#include <QString>
#include <cstdint>
#include <utility>
#include <vector>

namespace parm::db {
class Database;
}

namespace parm::app {

class RunListModel : public QAbstractTableModel {
  Q_OBJECT
 public:
  enum Column {
    IdColumn,
    NameColumn,
    KindColumn,
    RanksColumn,
    StatusColumn,
    StartedColumn,
    EventsColumn,
    NUM_COLUMNS
  };
  enum Role { RunIdRole = Qt::UserRole + 1, CompleteRole, KindRole };

  struct Row {
    std::int64_t id = 0;
    QString name, kind, started, backend;
    int ranks = 0;
    bool complete = false;
    std::int64_t events = 0;  // -1: not counted yet
    bool operator==(const Row&) const = default;
  };

  using QAbstractTableModel::QAbstractTableModel;

  // Re-reads `db`; throws parm::db::DbError like the queries it runs. Event counts of complete runs are
  // cached (they never change), those of runs still being written are re-counted each time. Without
  // `countEvents` nothing is counted (a count is O(events): 1 s at 1.23M): rows without a cached count show
  // none (events -1) until setEventCounts() brings what a worker counted.
  void refresh(const db::Database& db, bool countEvents = true);
  // The runs whose event count is to be read (events -1), and the counts once read.
  std::vector<std::int64_t> runsToCount() const;
  void setEventCounts(const std::vector<std::pair<std::int64_t, std::int64_t>>& counts);
  // Replaces the rows (ordered by id), with minimal change signals.
  void setRows(std::vector<Row> rows);
  void clear() { setRows({}); }

  const Row* row(int r) const;
  int rowOfRun(std::int64_t id) const;  // -1 when absent
  std::int64_t maxRunId() const { return rows_.empty() ? 0 : rows_.back().id; }

  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 signals:
  void runAdded(qint64 id);
  void runCompleted(qint64 id);  // a run listed as incomplete became complete

 private:
  std::vector<Row> rows_;
};

}  // namespace parm::app
