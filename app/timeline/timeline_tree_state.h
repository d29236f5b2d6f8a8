// Which nodes of the timeline's row tree are collapsed, kept across rebuilds (mode, layout, iteration, a
// new load): nodes are known by their label path ("B_DS/rank 0"), and "collapse all ranks" is remembered as
// such, so it also holds in the other layout, where rank nodes have other paths.
#pragma once

#include <QObject>
#include <QSet>
#include <QString>

class QModelIndex;
class QTreeView;

namespace parm::app {

class TimelineRowModel;

class TimelineTreeState : public QObject {
  Q_OBJECT
 public:
  TimelineTreeState(QTreeView* tree, TimelineRowModel* model, QObject* parent = nullptr);

  // Every rank node (and "predicted"), i.e. every node whose children are rows, collapsed: one merged row
  // per rank. Schedules stay expanded.
  void collapseAllRanks();
  void expandAll();
  // After the model was rebuilt: expand everything, then collapse what was collapsed before.
  void restore();
  bool ranksCollapsed() const { return ranksCollapsed_; }
  static bool isRankNode(const TimelineRowModel& model, const QModelIndex& index);

 private:
  QString pathOf(const QModelIndex& index) const;
  template <typename Visit>
  void forEachNode(Visit visit, const QModelIndex& parent);

  QTreeView* tree_;
  TimelineRowModel* model_;
  bool ranksCollapsed_ = false;
  bool restoring_ = false;
  QSet<QString> collapsed_;  // collapsed by the user (or by collapseAllRanks)
  QSet<QString> expanded_;   // expanded by the user while ranksCollapsed_
};

}  // namespace parm::app
