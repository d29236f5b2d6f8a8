#include "app/timeline/timeline_widget.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QImage>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QScrollBar>
#include <QSplitter>
#include <QThread>
#include <QTimer>
#include <QTreeView>
#include <QVBoxLayout>
#include <functional>

#include "app/timeline/timeline_image_export.h"
#include "app/timeline/timeline_legend.h"
#include "app/timeline/timeline_overview.h"
#include "app/timeline/timeline_row_model.h"
#include "app/timeline/timeline_tree_state.h"
#include "app/timeline/timeline_view.h"
#include "db/database.h"

namespace parm::app {

TimelineWidget::TimelineWidget(QWidget* parent) : QWidget(parent) {
  auto* bar = new QHBoxLayout;
  modeBox_ = new QComboBox;
  modeBox_->addItem(tr("Measured vs predicted (one iteration)"), static_cast<int>(TimelineMode::Aligned));
  modeBox_->addItem(tr("Whole run"), static_cast<int>(TimelineMode::WholeRun));
  layoutBox_ = new QComboBox;
  layoutBox_->addItem(tr("Stacked"));
  layoutBox_->addItem(tr("Side by side"));
  iterationBox_ = new QComboBox;
  flowsBox_ = new QCheckBox(tr("Flow arrows"));
  flowsBox_->setChecked(true);
  auto* fit = new QPushButton(tr("Fit"));
  fit->setToolTip(tr("Fit the run to the view (F)"));
  auto* collapseRanks = new QPushButton(tr("Collapse"));
  collapseRanks->setToolTip(tr("Collapse all ranks: one merged row per rank (Ctrl+[)"));
  auto* expandRows = new QPushButton(tr("Expand"));
  expandRows->setToolTip(tr("Expand all: every lane on its own row (Ctrl+])"));
  notice_ = new QLabel;
  notice_->setStyleSheet(QStringLiteral("color: #a05000"));
  for (QWidget* w : std::initializer_list<QWidget*>{modeBox_, layoutBox_, iterationBox_, flowsBox_, fit,
                                                    collapseRanks, expandRows})
    bar->addWidget(w);
  bar->addStretch(1);
  // A second row holds the search box (setUpInspection) and the notice, so the toolbar never forces a wide
  // window.
  auto* findBar = new QHBoxLayout;
  notice_->setWordWrap(true);
  findBar->addWidget(notice_, 1);
  fillIterationChoices();
  // The combos elide rather than widen the toolbar (the full text is in the popup).
  for (QComboBox* box : {modeBox_, iterationBox_}) {
    box->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    box->setMinimumContentsLength(box == modeBox_ ? 12 : 8);
  }

  model_ = new TimelineRowModel(this);
  tree_ = new QTreeView;
  tree_->setModel(model_);
  tree_->setHeaderHidden(true);  // the canvas' axis sits where a header would be
  tree_->setFrameShape(QFrame::NoFrame);
  tree_->setUniformRowHeights(true);
  tree_->setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
  tree_->setSelectionMode(QAbstractItemView::NoSelection);
  // The label elides, the count column always fits: counts are never cut off.
  tree_->header()->setStretchLastSection(false);
  tree_->header()->setSectionResizeMode(TimelineRowModel::LabelColumn, QHeaderView::Stretch);
  tree_->header()->setSectionResizeMode(TimelineRowModel::EventsColumn, QHeaderView::ResizeToContents);
  tree_->setTextElideMode(Qt::ElideMiddle);
  tree_->setContextMenuPolicy(Qt::CustomContextMenu);
  treeState_ = new TimelineTreeState(tree_, model_, this);
  auto* left = new QWidget;
  auto* leftLayout = new QVBoxLayout(left);
  leftLayout->setContentsMargins(0, 0, 0, 0);
  leftLayout->setSpacing(0);
  head_ = new QLabel(tr("  rows / events"));
  head_->setFixedHeight(TimelineView::kAxisHeight);
  leftLayout->addWidget(head_);
  leftLayout->addWidget(tree_);
  view_ = new TimelineView;
  view_->setMessage(tr("No run open"));
  splitter_ = new QSplitter;
  splitter_->addWidget(left);
  splitter_->addWidget(view_);
  splitter_->setStretchFactor(1, 1);
  splitter_->setSizes({220, 900});

  overview_ = new TimelineOverview;
  overview_->setVisible(false);
  legend_ = new TimelineLegend;
  legend_->setVisible(false);

  auto* root = new QVBoxLayout(this);
  root->addLayout(bar);
  root->addLayout(findBar);
  root->addWidget(overview_);
  // The legend stays under the canvas; the inspection panel (statistics, details) below both.
  auto* canvasArea = new QWidget;
  auto* canvasLayout = new QVBoxLayout(canvasArea);
  canvasLayout->setContentsMargins(0, 0, 0, 0);
  canvasLayout->addWidget(splitter_, 1);
  canvasLayout->addWidget(legend_);
  root->addWidget(setUpInspection(bar, findBar, canvasArea), 1);

  auto addShortcut = [this](const QKeySequence& keys, void (TimelineWidget::*slot)()) {
    auto* action = new QAction(this);
    action->setShortcut(keys);
    action->setShortcutContext(Qt::WidgetWithChildrenShortcut);
    connect(action, &QAction::triggered, this, slot);
    addAction(action);
  };
  addShortcut(QKeySequence(Qt::CTRL | Qt::Key_BracketLeft), &TimelineWidget::collapseAllRanks);
  addShortcut(QKeySequence(Qt::CTRL | Qt::Key_BracketRight), &TimelineWidget::expandAllRows);
  connect(collapseRanks, &QPushButton::clicked, this, &TimelineWidget::collapseAllRanks);
  connect(expandRows, &QPushButton::clicked, this, &TimelineWidget::expandAllRows);
  connect(tree_, &QTreeView::customContextMenuRequested, this, [this](const QPoint& at) {
    QMenu menu;
    menu.addAction(tr("Collapse all ranks"), QKeySequence(Qt::CTRL | Qt::Key_BracketLeft), this,
                   &TimelineWidget::collapseAllRanks);
    menu.addAction(tr("Expand all"), QKeySequence(Qt::CTRL | Qt::Key_BracketRight), this,
                   &TimelineWidget::expandAllRows);
    menu.exec(tree_->viewport()->mapToGlobal(at));
  });
  connect(view_, &TimelineView::visibleRangeChanged, overview_, &TimelineOverview::setWindow);
  connect(overview_, &TimelineOverview::windowRequested, view_, &TimelineView::setVisibleRange);
  connect(splitter_, &QSplitter::splitterMoved, this,
          [this] { overview_->setLabelWidth(splitter_->sizes().value(0)); });

  connect(modeBox_, &QComboBox::currentIndexChanged, this,
          [this] { setMode(static_cast<TimelineMode>(modeBox_->currentData().toInt())); });
  connect(layoutBox_, &QComboBox::currentIndexChanged, this, [this](int i) { setSideBySide(i == 1); });
  connect(iterationBox_, &QComboBox::currentIndexChanged, this,
          [this] { setIterationChoice(iterationBox_->currentData().toInt()); });
  connect(flowsBox_, &QCheckBox::toggled, view_, &TimelineView::setFlowsVisible);
  connect(flowsBox_, &QCheckBox::toggled, this, &TimelineWidget::flowsVisibleChanged);
  connect(fit, &QPushButton::clicked, view_, &TimelineView::fitToView);
  auto later = [this] {
    if (relayoutPending_) return;
    relayoutPending_ = true;
    QTimer::singleShot(0, this, [this] { relayoutRows(); });
  };
  connect(tree_, &QTreeView::expanded, this, later);
  connect(tree_, &QTreeView::collapsed, this, later);
  connect(tree_->verticalScrollBar(), &QScrollBar::valueChanged, this, [this] { relayoutRows(); });
  connect(view_, &TimelineView::verticalDragged, this,
          [this](int dy) { tree_->verticalScrollBar()->setValue(tree_->verticalScrollBar()->value() - dy); });
  connect(view_, &TimelineView::rangeSelected, this, &TimelineWidget::rangeSelected);
  connect(view_, &TimelineView::rangeCleared, this, &TimelineWidget::rangeCleared);
}

TimelineWidget::~TimelineWidget() {
  for (const QPointer<QThread>& t : threads_)
    if (t) t->wait();  // a load in flight owns nothing of ours, but must end before its QThread is deleted
}

bool TimelineWidget::openRun(const QString& dbPath, qint64 runId, QString* error, qint64 predictionRunId) {
  ++generation_;
  data_.reset();
  dbPath_ = dbPath;
  view_->setData(nullptr);
  refreshInspection(true);
  model_->rebuild(nullptr, sideBySide_);
  showData();
  noticeText_.clear();
  notice_->clear();
  try {
    const db::Database db = db::Database::open(dbPath.toStdString(), false);
    const std::optional<db::RunInfo> run = db.run(runId);
    if (!run) throw db::DbError(dbPath.toStdString() + ": no run " + std::to_string(runId));
    if (predictionRunId >= 0 && !db.run(predictionRunId))
      throw db::DbError(dbPath.toStdString() + ": no prediction run " + std::to_string(predictionRunId));
    if (!run->complete)
      noticeText_ =
          tr("%1: run %2 is incomplete (still being written, or it was killed): showing what is stored")
              .arg(dbPath)
              .arg(runId);
  } catch (const std::exception& e) {
    const QString message = QString::fromStdString(e.what());
    if (error) *error = message.startsWith(dbPath) ? message : dbPath + ": " + message;
    loading_ = false;
    view_->setMessage(error ? *error : message);
    return false;
  }
  if (error) *error = noticeText_;
  notice_->setText(noticeText_);
  view_->setMessage(tr("Loading run %1 of %2 ...").arg(runId).arg(QFileInfo(dbPath).fileName()));
  loading_ = true;

  auto loaded = std::make_shared<TimelineData>();
  auto ok = std::make_shared<bool>(false);
  auto message = std::make_shared<QString>();
  const TimelineMode mode = mode_;
  const int choice = iterationChoice_;
  const bool relative = sideBySide_;
  // The destructor waits for the worker, so `this` outlives every call; a superseded load reports nothing.
  const auto progress = [this, generation = generation_](std::int64_t done, std::int64_t total) {
    QMetaObject::invokeMethod(
        this,
        [this, generation, done, total] {
          if (generation == generation_) emit loadProgress(done, total);
        },
        Qt::QueuedConnection);
  };
  QThread* thread = QThread::create([=] {
    *ok = loaded->load(dbPath, runId, predictionRunId, message.get(), progress);
    if (*ok) loaded->build(mode, choice, relative);
  });
  thread->setParent(this);
  const int generation = generation_;
  connect(thread, &QThread::finished, this, [=, this] {
    finishLoad(loaded, *ok, *message, generation);
    thread->deleteLater();
  });
  threads_.emplace_back(thread);
  thread->start();
  return true;
}

void TimelineWidget::finishLoad(std::shared_ptr<TimelineData> loaded, bool ok, const QString& error,
                                int generation) {
  std::erase_if(threads_, [](const QPointer<QThread>& t) { return t.isNull() || t->isFinished(); });
  if (generation != generation_) return;  // a later openRun superseded this load
  loading_ = false;
  if (!ok) {
    view_->setMessage(error);
    emit runLoaded(false, error);
    return;
  }
  data_ = std::move(loaded);
  // The worker built with the settings of openRun time; rebuild if they changed meanwhile.
  if (data_->mode() != mode_) data_->build(mode_, iterationChoice_, sideBySide_);
  fillIterationChoices();
  showData();
  refreshInspection(true);
  if (data_->measured().empty() && data_->predicted().empty())
    view_->setMessage(tr("Run %1 has no events yet").arg(data_->runId()));
  emit runLoaded(true, noticeText_);
}

void TimelineWidget::fillIterationChoices() {
  const QSignalBlocker block(iterationBox_);
  iterationBox_->clear();
  iterationBox_->addItem(tr("median iteration"), kIterationMedian);
  iterationBox_->addItem(tr("fastest iteration"), kIterationFastest);
  iterationBox_->addItem(tr("slowest iteration"), kIterationSlowest);
  std::size_t iterations = 0;
  if (data_)
    for (const TimelineSection& s : data_->sections())
      iterations = std::max(iterations, s.iterationStart.size());
  for (std::size_t i = 0; i < iterations; ++i)
    iterationBox_->addItem(tr("iteration %1").arg(i), static_cast<int>(i));
  const int at = iterationBox_->findData(iterationChoice_);
  iterationBox_->setCurrentIndex(at >= 0 ? at : 0);
  iterationBox_->setEnabled(mode_ == TimelineMode::Aligned);
}

void TimelineWidget::rebuild() {
  iterationBox_->setEnabled(mode_ == TimelineMode::Aligned);
  if (!data_) return;
  view_->clearSelection();  // its time base changes with the build
  data_->build(mode_, iterationChoice_, sideBySide_);
  showData();
  refreshInspection(false);
}

// After a load or a build: the canvas, the tree (collapsed as before), the legend, the overview, fitted.
void TimelineWidget::showData() {
  const TimelineData* shown = data_.get();
  view_->setData(shown);
  if (shown) model_->rebuild(shown, sideBySide_);
  treeState_->restore();
  legend_->setData(shown);
  legend_->setVisible(shown && !legend_->entries().empty());
  overview_->setData(shown && mode_ == TimelineMode::WholeRun ? shown : nullptr);
  overview_->setVisible(shown && mode_ == TimelineMode::WholeRun);
  overview_->setLabelWidth(splitter_->sizes().value(0));
  head_->setText(sideBySide_ && shown ? tr("  rows / events: %1").arg(model_->columnTitles().join(" / "))
                                      : tr("  rows / events"));
  fitTreeColumns();
  relayoutRows();
  view_->fitToView();
}

// Widens the tree pane (never narrows what the user chose) so labels and counts fit, within reason.
void TimelineWidget::fitTreeColumns() {
  if (!data_) return;
  const QFontMetrics metrics = tree_->fontMetrics();
  int labels = 0, counts = 0;
  std::function<void(const QModelIndex&, int)> walk = [&](const QModelIndex& parent, int depth) {
    for (int r = 0; r < model_->rowCount(parent); ++r) {
      const QModelIndex index = model_->index(r, 0, parent);
      labels = std::max(
          labels, (depth + 1) * tree_->indentation() + metrics.horizontalAdvance(index.data().toString()));
      counts = std::max(counts, metrics.horizontalAdvance(
                                    index.siblingAtColumn(TimelineRowModel::EventsColumn).data().toString()));
      walk(index, depth + 1);
    }
  };
  walk({}, 0);
  const int wanted = labels + counts + 32 + tree_->verticalScrollBar()->sizeHint().width();
  QList<int> sizes = splitter_->sizes();
  const int target = std::min(wanted, std::max(220, width() / 3));
  if (sizes.size() == 2 && sizes[0] < target) {
    const int total = sizes[0] + sizes[1];
    sizes = {target, std::max(100, total - target)};
    splitter_->setSizes(sizes);
    overview_->setLabelWidth(target);
  }
}

void TimelineWidget::setMode(TimelineMode mode) {
  if (mode == mode_) return;
  mode_ = mode;
  const QSignalBlocker block(modeBox_);
  modeBox_->setCurrentIndex(modeBox_->findData(static_cast<int>(mode)));
  rebuild();
}

void TimelineWidget::setSideBySide(bool on) {
  if (on == sideBySide_) return;
  sideBySide_ = on;
  const QSignalBlocker block(layoutBox_);
  layoutBox_->setCurrentIndex(on ? 1 : 0);
  rebuild();
  emit sideBySideChanged(on);
}

void TimelineWidget::setIterationChoice(int choice) {
  if (choice == iterationChoice_) return;
  iterationChoice_ = choice;
  const QSignalBlocker block(iterationBox_);
  const int at = iterationBox_->findData(choice);
  if (at >= 0) iterationBox_->setCurrentIndex(at);
  if (mode_ == TimelineMode::Aligned) rebuild();
}

void TimelineWidget::setFlowsVisible(bool on) {
  flowsBox_->setChecked(on);
}
bool TimelineWidget::flowsVisible() const {
  return flowsBox_->isChecked();
}
void TimelineWidget::fitToView() {
  view_->fitToView();
}
void TimelineWidget::collapseAllRanks() {
  treeState_->collapseAllRanks();
  relayoutRows();
}
void TimelineWidget::expandAllRows() {
  treeState_->expandAll();
  relayoutRows();
}
void TimelineWidget::clearSelection() {
  view_->clearSelection();
}
QString TimelineWidget::notice() const {
  return noticeText_;
}

// The canvas draws the tree's visible rows at the tree's own y positions, so both scroll and collapse
// together.
void TimelineWidget::relayoutRows() {
  relayoutPending_ = false;
  std::vector<TimelineView::VisibleRow> rows;
  if (data_) {
    tree_->doItemsLayout();
    std::function<void(const QModelIndex&)> walk = [&](const QModelIndex& parent) {
      for (int r = 0; r < model_->rowCount(parent); ++r) {
        const QModelIndex index = model_->index(r, 0, parent);
        const QRect rect = tree_->visualRect(index);
        if (!rect.isValid()) continue;
        TimelineView::VisibleRow row;
        row.top = rect.top();
        row.height = rect.height();
        if (tree_->isExpanded(index) && model_->rowCount(index) > 0) {
          row.header = true;
          rows.push_back(std::move(row));
          walk(index);
        } else {
          row.columns = model_->rowsUnder(index);
          rows.push_back(std::move(row));
        }
      }
    };
    walk({});
  }
  view_->setRows(std::move(rows), model_->columnTitles());
}

QString TimelineWidget::exportTitle() const {
  if (!data_) return {};
  return timelineImageTitle(*data_, dbPath_, sideBySide_, iterationBox_->currentText(), view_->visibleStart(),
                            view_->visibleEnd());
}

bool TimelineWidget::exportImage(const QString& path, QString* error) {
  if (!data_) {
    if (error) *error = path + ": " + tr("no run loaded to export");
    return false;
  }
  relayoutRows();
  if (splitter_->size().isEmpty()) splitter_->resize(1200, 700);  // never shown: lay it out for the export
  TimelineImage image;
  image.title = exportTitle();
  image.legend = legendEntries(*data_);
  image.content = splitter_;
  image.contentHeight = std::min(splitter_->height(), TimelineView::kAxisHeight + shownRowsBottom(*tree_));
  image.palette = view_->palette();
  return writeTimelineImage(path, image, error);
}

}  // namespace parm::app
