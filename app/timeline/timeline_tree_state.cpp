#include "app/timeline/timeline_tree_state.h"

#include <QTreeView>

#include "app/timeline/timeline_row_model.h"

namespace parm::app {

TimelineTreeState::TimelineTreeState(QTreeView* tree, TimelineRowModel* model, QObject* parent)
    : QObject(parent), tree_(tree), model_(model) {
  connect(tree_, &QTreeView::collapsed, this, [this](const QModelIndex& index) {
    if (restoring_) return;
    const QString path = pathOf(index);
    collapsed_.insert(path);
    expanded_.remove(path);
  });
  connect(tree_, &QTreeView::expanded, this, [this](const QModelIndex& index) {
    if (restoring_) return;
    const QString path = pathOf(index);
    collapsed_.remove(path);
    if (ranksCollapsed_) expanded_.insert(path);
  });
}

QString TimelineTreeState::pathOf(const QModelIndex& index) const {
  QString path;
  for (QModelIndex i = index.siblingAtColumn(0); i.isValid(); i = i.parent())
    path.prepend(QLatin1Char('/') + i.data().toString());
  return path;
}

bool TimelineTreeState::isRankNode(const TimelineRowModel& model, const QModelIndex& index) {
  if (!index.isValid() || model.rowCount(index) == 0) return false;
  for (int r = 0; r < model.rowCount(index); ++r)
    if (!model.isLeaf(model.index(r, 0, index))) return false;
  return true;
}

template <typename Visit>
void TimelineTreeState::forEachNode(Visit visit, const QModelIndex& parent) {
  for (int r = 0; r < model_->rowCount(parent); ++r) {
    const QModelIndex index = model_->index(r, 0, parent);
    if (model_->rowCount(index) == 0) continue;
    visit(index);
    forEachNode(visit, index);
  }
}

void TimelineTreeState::collapseAllRanks() {
  ranksCollapsed_ = true;
  expanded_.clear();
  collapsed_.clear();
  restore();
}

void TimelineTreeState::expandAll() {
  ranksCollapsed_ = false;
  expanded_.clear();
  collapsed_.clear();
  restore();
}

void TimelineTreeState::restore() {
  restoring_ = true;
  tree_->expandAll();
  forEachNode(
      [this](const QModelIndex& index) {
        const QString path = pathOf(index);
        const bool collapse = collapsed_.contains(path) ||
                              (ranksCollapsed_ && isRankNode(*model_, index) && !expanded_.contains(path));
        if (collapse) tree_->collapse(index);
      },
      {});
  restoring_ = false;
}

}  // namespace parm::app
