#include "app/timeline/timeline_inspector.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QToolButton>
#include <QVBoxLayout>

#include "app/timeline/timeline_details.h"
#include "app/timeline/timeline_format.h"
#include "app/timeline/timeline_stats_model.h"

namespace parm::app {
namespace {

void setUpTable(QTableView* table) {
  table->verticalHeader()->hide();
  table->verticalHeader()->setDefaultSectionSize(table->fontMetrics().height() + 6);
  table->setSelectionBehavior(QAbstractItemView::SelectRows);
  table->setAlternatingRowColors(true);
  table->setWordWrap(false);
}

}  // namespace

TimelineInspector::TimelineInspector(QWidget* parent) : QWidget(parent) {
  stats_ = new TimelineStatsModel(this);
  sorted_ = new QSortFilterProxyModel(this);
  sorted_->setSourceModel(stats_);
  sorted_->setSortRole(TimelineStatsModel::SortRole);
  statsTable_ = new QTableView;
  statsTable_->setModel(sorted_);
  setUpTable(statsTable_);
  statsTable_->setSortingEnabled(true);
  statsTable_->sortByColumn(TimelineStatsModel::Sum, Qt::DescendingOrder);
  statsTable_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
  statsTable_->horizontalHeader()->setStretchLastSection(true);
  scopeBox_ = new QComboBox;
  scopeBox_->addItem(tr("Selection"), static_cast<int>(TimelineStatsModel::Scope::Selection));
  scopeBox_->addItem(tr("Whole run"), static_cast<int>(TimelineStatsModel::Scope::WholeRun));
  scopeBox_->setCurrentIndex(1);
  scopeBox_->setToolTip(
      tr("Statistics of the drawn range (shift-drag or right-drag on the timeline), or the "
         "per-schedule op summary of the whole run"));
  caption_ = new QLabel;
  auto* left = new QWidget;
  auto* leftLayout = new QVBoxLayout(left);
  leftLayout->setContentsMargins(0, 0, 0, 0);
  auto* leftBar = new QHBoxLayout;
  leftBar->addWidget(new QLabel(tr("Statistics:")));
  leftBar->addWidget(scopeBox_);
  leftBar->addWidget(caption_, 1);
  leftLayout->addLayout(leftBar);
  leftLayout->addWidget(statsTable_);

  details_ = new TimelineDetailsModel(this);
  detailsTable_ = new QTableView;
  detailsTable_->setModel(details_);
  setUpTable(detailsTable_);
  detailsTable_->horizontalHeader()->setSectionResizeMode(TimelineDetailsModel::NameColumn,
                                                          QHeaderView::ResizeToContents);
  detailsTable_->horizontalHeader()->setStretchLastSection(true);
  detailsTable_->installEventFilter(this);
  copy_ = new QAction(tr("Copy"), this);
  copy_->setToolTip(tr("Copy the selected rows (all rows when none is selected) as name<TAB>value (Ctrl+C)"));
  connect(copy_, &QAction::triggered, this, &TimelineInspector::copyDetails);
  auto* copyButton = new QToolButton;
  copyButton->setDefaultAction(copy_);
  auto* right = new QWidget;
  auto* rightLayout = new QVBoxLayout(right);
  rightLayout->setContentsMargins(0, 0, 0, 0);
  auto* rightBar = new QHBoxLayout;
  rightBar->addWidget(new QLabel(tr("Selected event (click one; Esc clears)")), 1);
  rightBar->addWidget(copyButton);
  rightLayout->addLayout(rightBar);
  rightLayout->addWidget(detailsTable_);

  auto* split = new QSplitter(Qt::Horizontal);
  split->addWidget(left);
  split->addWidget(right);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  auto* root = new QVBoxLayout(this);
  root->setContentsMargins(0, 0, 0, 0);
  root->addWidget(split);

  connect(scopeBox_, &QComboBox::currentIndexChanged, this, [this] {
    stats_->setScope(static_cast<TimelineStatsModel::Scope>(scopeBox_->currentData().toInt()));
    showCaption();
  });
  showCaption();
}

void TimelineInspector::setTimeline(const TimelineData* timeline) {
  data_ = timeline;
  stats_->setTimeline(timeline);
  details_->clear();
  scopeBox_->setCurrentIndex(1);
  showCaption();
}

void TimelineInspector::setRanges(const ScheduleRanges& ranges, qint64 lengthNs) {
  rangeLength_ = lengthNs;
  stats_->setRanges(ranges);
  scopeBox_->setCurrentIndex(0);
  showCaption();
}

void TimelineInspector::clearRanges() {
  stats_->clearRanges();
  scopeBox_->setCurrentIndex(1);
  showCaption();
}

void TimelineInspector::showDetails(EventRef event) {
  details_->show(data_, event);
}

void TimelineInspector::showCaption() {
  if (stats_->scope() == TimelineStatsModel::Scope::WholeRun)
    caption_->setText(tr("per schedule, op and lane over every measured iteration"));
  else if (stats_->hasRanges())
    caption_->setText(tr("events overlapping the %1 range, each schedule in its own time base")
                          .arg(formatDuration(static_cast<double>(rangeLength_))));
  else
    caption_->setText(tr("draw a range (shift-drag or right-drag on the timeline)"));
}

void TimelineInspector::copyDetails() {
  QModelIndexList rows = detailsTable_->selectionModel()->selectedIndexes();
  if (rows.isEmpty())
    for (int r = 0; r < details_->rowCount(); ++r) rows << details_->index(r, 0);
  const QString text = details_->textOf(rows);
  if (!text.isEmpty()) QApplication::clipboard()->setText(text);
}

bool TimelineInspector::eventFilter(QObject* watched, QEvent* event) {
  if (watched == detailsTable_ && event->type() == QEvent::KeyPress &&
      static_cast<QKeyEvent*>(event)->matches(QKeySequence::Copy)) {
    copyDetails();
    return true;
  }
  return QWidget::eventFilter(watched, event);
}

}  // namespace parm::app
