// The rank -> lane tree left of the timeline canvas. Stacked: schedule -> rank -> lane plus schedule ->
// predicted -> lane. A rank's GPU rows (one per device and stream) are leaves after its lanes. Side by side
// (schedules as columns of the canvas): rank -> lane plus predicted -> lane, each leaf standing for one data
// row per column. Collapsing a node makes the canvas draw its leaves merged into one row.
#pragma once

#include <QAbstractItemModel>
#include <QStringList>
#include <vector>

namespace parm::app {

class TimelineData;

class TimelineRowModel : public QAbstractItemModel {
  Q_OBJECT
 public:
  enum Column { LabelColumn, EventsColumn, ColumnCount };
  static constexpr int DataRowRole = Qt::UserRole + 1;  // stacked leaves: index into TimelineData::rows()
  // Events under a node per canvas column (one per schedule side by side), a QVariantList of qint64; the
  // EventsColumn shows them as "120 / 98 / 110" side by side.
  static constexpr int EventsPerColumnRole = Qt::UserRole + 2;

  explicit TimelineRowModel(QObject* parent = nullptr);

  void rebuild(const TimelineData* data, bool sideBySide);
  bool sideBySide() const { return sideBySide_; }
  int timeColumns() const { return static_cast<int>(columnTitles_.size()); }
  const QStringList& columnTitles() const { return columnTitles_; }
  // Data rows drawn for this index, per canvas column: the leaf's own row, or every leaf under a node.
  std::vector<std::vector<int>> rowsUnder(const QModelIndex& index) const;
  bool isLeaf(const QModelIndex& index) const;
  // The index of a stacked leaf showing data row `row` (invalid if none).
  QModelIndex indexOfDataRow(int row) const;

  QModelIndex index(int row, int column, const QModelIndex& parent = {}) const override;
  QModelIndex parent(const QModelIndex& child) const override;
  int rowCount(const QModelIndex& parent = {}) const override;
  int columnCount(const QModelIndex& parent = {}) const override;
  QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

 private:
  struct Node {
    QString label;
    QString tip;
    int parent = -1;
    int indexInParent = 0;
    std::vector<int> children;
    std::vector<int> rows;  // leaves: data row per canvas column, -1 where that column has none
    qint64 events = 0;
    std::vector<qint64> eventsPerColumn;
  };
  QString eventsText(const Node& n) const;
  int addNode(int parent, const QString& label, const QString& tip = {});
  int addRank(int parent, const TimelineData& data, int rank);
  int nodeOf(const QModelIndex& index) const;
  void collect(int node, std::vector<std::vector<int>>& out) const;

  std::vector<Node> nodes_;  // nodes_[0] is the invisible root
  QStringList columnTitles_;
  bool sideBySide_ = false;
};

}  // namespace parm::app
