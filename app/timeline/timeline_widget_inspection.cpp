// TimelineWidget's selection and inspection: the search box and the "selected only" flow option in the
// toolbar, the statistics and details panel under the canvas, the per-schedule ranges of a drawn range, and
// selecting ops from outside (the Compare page's breakdown bars).
#include <QCheckBox>
#include <QHBoxLayout>
#include <QSplitter>
#include <QTreeView>
#include <algorithm>
#include <cmath>
#include <limits>

#include "app/timeline/timeline_inspector.h"
#include "app/timeline/timeline_row_model.h"
#include "app/timeline/timeline_search.h"
#include "app/timeline/timeline_view.h"
#include "app/timeline/timeline_widget.h"

namespace parm::app {

QWidget* TimelineWidget::setUpInspection(QHBoxLayout* bar, QHBoxLayout* findBar, QWidget* canvas) {
  flowsSelectedBox_ = new QCheckBox(tr("selected only"));
  flowsSelectedBox_->setToolTip(tr("Flow arrows of the selected collective only (click an op to select it)"));
  bar->insertWidget(bar->indexOf(flowsBox_) + 1, flowsSelectedBox_);
  search_ = new TimelineSearchBar(view_);
  findBar->insertWidget(0, search_);
  inspector_ = new TimelineInspector;
  auto* body = new QSplitter(Qt::Vertical);
  body->addWidget(canvas);
  body->addWidget(inspector_);
  body->setStretchFactor(0, 3);
  body->setStretchFactor(1, 1);
  body->setSizes({700, 230});

  connect(flowsSelectedBox_, &QCheckBox::toggled, view_, &TimelineView::setFlowsSelectedOnly);
  connect(view_, &TimelineView::rangeSelected, this, [this] {
    const auto drawn = view_->displaySelection();
    if (!data_ || !drawn) return;
    const auto a = static_cast<std::int64_t>(std::llround(std::min(drawn->first, drawn->second)));
    const auto b = static_cast<std::int64_t>(std::llround(std::max(drawn->first, drawn->second)));
    const ScheduleRanges ranges = scheduleRangesFor(*data_, a, b);
    inspector_->setRanges(ranges, b - a);
    emit scheduleRangesSelected(ranges);
  });
  connect(view_, &TimelineView::rangeCleared, inspector_, &TimelineInspector::clearRanges);
  connect(view_, &TimelineView::eventSelected, this, [this](EventRef event) {
    inspector_->showDetails(event);
    emit eventSelected(event);
  });
  connect(search_, &TimelineSearchBar::jumpTo, this, &TimelineWidget::revealEvent);
  return body;
}

void TimelineWidget::refreshInspection(bool newLoad) {
  if (newLoad)
    inspector_->setTimeline(data_.get());
  else
    inspector_->showDetails(view_->selectedEvent());  // display times follow the build
  search_->setTimeline(data_.get());
}

void TimelineWidget::revealEvent(EventRef event) {
  const TimelineEvent* e = data_ ? eventOf(*data_, event) : nullptr;
  if (!e || e->row < 0) return;
  if (const QModelIndex index = model_->indexOfDataRow(e->row); index.isValid()) {
    tree_->scrollTo(index);  // expands its parents
    relayoutRows();
  }
  view_->centreOn(event);
  view_->selectEvent(event);
}

int TimelineWidget::selectOps(const QString& schedule, std::function<bool(const TimelineEvent&)> which) {
  if (!data_) return 0;
  std::vector<std::int32_t> ops = shownMeasured(*data_, schedule, which);
  search_->clearQuietly();
  std::int64_t start = std::numeric_limits<std::int64_t>::max(),
               end = std::numeric_limits<std::int64_t>::min();
  for (std::int32_t i : ops) {
    const TimelineEvent& e = data_->measured()[static_cast<std::size_t>(i)];
    start = std::min(start, data_->displayStart(e));
    end = std::max(end, data_->displayEnd(e));
  }
  const int count = static_cast<int>(ops.size());
  view_->setHighlighted(std::move(ops));
  if (count > 0) {
    const double margin = std::max(1.0, 0.03 * static_cast<double>(end - start));
    view_->setVisibleRange(static_cast<double>(start) - margin, static_cast<double>(end) + margin);
  }
  return count;
}

void TimelineWidget::clearOpSelection() {
  search_->clearQuietly();
  view_->setHighlighted({});
}

}  // namespace parm::app
