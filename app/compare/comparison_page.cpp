#include "app/compare/comparison_page.h"

#include <QComboBox>
#include <QFileDialog>
#include <QFrame>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QTreeView>
#include <QVBoxLayout>
#include <exception>
#include <nlohmann/json.hpp>
#include <optional>

#include "app/compare/breakdown_chart.h"
#include "app/compare/comparison_data.h"
#include "app/compare/comparison_model.h"
#include "app/compare/model_blocks_model.h"
#include "app/compare/op_delta_model.h"
#include "app/models/latest_job.h"
#include "db/database.h"
#include "engine/model/calibration.h"

namespace parm::app {
namespace {

QString oneLine(const std::exception& e) {
  return QString::fromStdString(e.what()).replace(QLatin1Char('\n'), QLatin1Char(' ')).trimmed();
}

QTableView* makeTable(QAbstractItemModel* model, QWidget* parent) {
  auto* view = new QTableView(parent);
  view->setModel(model);
  view->setSortingEnabled(true);
  view->setSelectionBehavior(QAbstractItemView::SelectRows);
  view->setEditTriggers(QAbstractItemView::NoEditTriggers);
  view->verticalHeader()->hide();
  view->horizontalHeader()->setStretchLastSection(true);
  return view;
}

}  // namespace

// What the recommendation box shows; computed on the worker from plain values (no widget is touched there).
struct RecommendationView {
  QString chosen, reason, source, error, calibration, calibrationCreated;
};

namespace {

RecommendationView computeRecommendation(const QString& dbPath, qint64 runId,
                                         const QString& calibrationPath) {
  RecommendationView view;
  try {
    const auto db = db::Database::open(dbPath.toStdString(), false);
    std::optional<Calibration> calib;
    if (!calibrationPath.isEmpty()) calib = load_calibration_file(calibrationPath.toStdString());
    const nlohmann::json rec = recommendation_for_run(db, runId, calib ? &*calib : nullptr);
    const nlohmann::json& layer = rec["layers"].at(0);
    view.chosen = QString::fromStdString(layer.value("chosen", std::string()));
    view.reason = QString::fromStdString(layer.value("reason", std::string()));
    if (view.reason.isEmpty() && layer.contains("measured_best"))
      view.reason =
          ComparisonPage::tr("predicted best %1, measured best %2 (a grid validation stores no reason)")
              .arg(view.chosen, QString::fromStdString(layer["measured_best"].get<std::string>()));
    view.source = QString::fromStdString(rec.value("source", std::string()));
    view.calibration = QString::fromStdString(rec.value("calibration", std::string()));
    if (calib) view.calibrationCreated = QString::fromStdString(calib->created_at);
  } catch (const std::exception& e) {
    view = {};
    view.error = oneLine(e);
  }
  return view;
}

}  // namespace

ComparisonPage::ComparisonPage(QWidget* parent)
    : QWidget(parent),
      comparison_(new ComparisonModel(this)),
      deltas_(new OpDeltaModel(this)),
      blocks_(new ModelBlocksModel(this)),
      recommendationJob_(new LatestJob(this)),
      loadJob_(new LatestJob(this)),
      comparisonProxy_(new QSortFilterProxyModel(this)),
      deltaProxy_(new QSortFilterProxyModel(this)) {
  // Sort on the raw values, not on the formatted text.
  comparisonProxy_->setSourceModel(comparison_);
  comparisonProxy_->setSortRole(ComparisonModel::ValueRole);
  deltaProxy_->setSourceModel(deltas_);
  deltaProxy_->setSortRole(OpDeltaModel::ValueRole);

  title_ = new QLabel(tr("No run"), this);
  auto* banner = new QFrame(this);
  banner->setFrameShape(QFrame::StyledPanel);
  banner->setAutoFillBackground(true);
  banner->setBackgroundRole(QPalette::AlternateBase);
  verdictLabel_ = new QLabel(banner);
  verdictLabel_->setWordWrap(true);
  verdictLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  QFont bannerFont = verdictLabel_->font();
  bannerFont.setBold(true);
  bannerFont.setPointSizeF(bannerFont.pointSizeF() * 1.15);
  verdictLabel_->setFont(bannerFont);
  auto* bannerLayout = new QVBoxLayout(banner);
  bannerLayout->addWidget(verdictLabel_);

  schedulesView_ = makeTable(comparisonProxy_, this);
  connect(schedulesView_, &QTableView::doubleClicked, this, [this](const QModelIndex& i) {
    emit scheduleActivated(comparisonProxy_->index(i.row(), ComparisonModel::Schedule).data().toString());
  });
  breakdown_ = new BreakdownChart(this);
  connect(breakdown_, &BreakdownChart::segmentActivated, this, &ComparisonPage::breakdownSegmentActivated);

  auto* deltaBox = new QGroupBox(tr("Per-op deltas"), this);
  mode_ = new QComboBox(deltaBox);
  mode_->addItem(tr("Schedule A vs schedule B (measured)"));
  mode_->addItem(tr("Measured vs predicted (schedule A)"));
  scheduleA_ = new QComboBox(deltaBox);
  scheduleB_ = new QComboBox(deltaBox);
  rangeLabel_ = new QLabel(deltaBox);
  clearRange_ = new QPushButton(tr("Whole run"), deltaBox);
  deltaView_ = makeTable(deltaProxy_, deltaBox);
  auto* controls = new QHBoxLayout;
  controls->addWidget(mode_);
  controls->addWidget(new QLabel(tr("A:"), deltaBox));
  controls->addWidget(scheduleA_);
  controls->addWidget(new QLabel(tr("B:"), deltaBox));
  controls->addWidget(scheduleB_);
  controls->addStretch(1);
  controls->addWidget(rangeLabel_);
  controls->addWidget(clearRange_);
  auto* deltaLayout = new QVBoxLayout(deltaBox);
  deltaLayout->addLayout(controls);
  deltaLayout->addWidget(deltaView_);

  auto applyDeltaChoice = [this] {
    deltas_->setMode(mode_->currentIndex() == 0 ? OpDeltaModel::Mode::SchedulesMeasured
                                                : OpDeltaModel::Mode::MeasuredVsPredicted);
    deltas_->setSchedules(scheduleA_->currentText(), scheduleB_->currentText());
    scheduleB_->setEnabled(mode_->currentIndex() == 0);
  };
  connect(mode_, &QComboBox::currentIndexChanged, this, applyDeltaChoice);
  connect(scheduleA_, &QComboBox::currentIndexChanged, this, applyDeltaChoice);
  connect(scheduleB_, &QComboBox::currentIndexChanged, this, applyDeltaChoice);
  connect(clearRange_, &QPushButton::clicked, this, &ComparisonPage::clearTimeRange);

  auto* recBox = new QGroupBox(tr("Recommendation"), this);
  chosen_ = new QLabel(recBox);
  QFont big = chosen_->font();
  big.setBold(true);
  chosen_->setFont(big);
  reasonLabel_ = new QLabel(recBox);
  reasonLabel_->setWordWrap(true);
  reasonLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  source_ = new QLabel(recBox);
  calibrationButton_ = new QPushButton(tr("Calibration..."), recBox);
  calibrationButton_->setToolTip(
      tr("Calibration file (parm calibrate) used when no validation covers the run"));
  connect(calibrationButton_, &QPushButton::clicked, this, &ComparisonPage::chooseCalibration);
  auto* recTop = new QHBoxLayout;
  recTop->addWidget(chosen_);
  recTop->addStretch(1);
  recTop->addWidget(source_);
  recTop->addWidget(calibrationButton_);
  auto* recLayout = new QVBoxLayout(recBox);
  recLayout->addLayout(recTop);
  recLayout->addWidget(reasonLabel_);

  // A whole-model run: the step block by block, each block's parts collapsible under it.
  blocksBox_ = new QGroupBox(tr("Blocks of a whole-model run (the times above are training steps): ms per "
                                "step, slowest rank, busy time "
                                "per part"),
                             this);
  blocksView_ = new QTreeView(blocksBox_);
  blocksView_->setModel(blocks_);
  blocksView_->setUniformRowHeights(true);
  blocksView_->setAlternatingRowColors(true);
  blocksView_->header()->setStretchLastSection(false);
  auto* blocksLayout = new QVBoxLayout(blocksBox_);
  blocksLayout->addWidget(blocksView_);
  blocksBox_->setVisible(false);

  auto* top = new QSplitter(Qt::Horizontal, this);
  top->addWidget(schedulesView_);
  top->addWidget(breakdown_);
  top->setStretchFactor(0, 1);
  top->setStretchFactor(1, 1);
  auto* splitter = new QSplitter(Qt::Vertical, this);
  splitter->addWidget(top);
  splitter->addWidget(blocksBox_);
  splitter->addWidget(deltaBox);
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(title_);
  layout->addWidget(banner);
  layout->addWidget(splitter, 1);
  layout->addWidget(recBox);
  updateRangeLabel();
  updateVerdict();
  updateRecommendation();
}

bool ComparisonPage::modelBlocksShown() const {
  return !blocks_->empty();
}

bool ComparisonPage::loading() const {
  return loadJob_->pending();
}

void ComparisonPage::clearPage() {
  comparison_->clear();
  deltas_->clear();
  breakdown_->setBreakdowns({});
  blocks_->clear();
  blocksBox_->setVisible(false);
  verdict_ = {};
  haveVerdict_ = false;
  updateDeltaControls();
}

bool ComparisonPage::setRun(const QString& dbPath, qint64 runId) {
  dbPath_ = dbPath;
  runId_ = 0;
  QString error;
  // One row read here; the events, the comparison and the rest load on the worker.
  try {
    const auto db = db::Database::open(dbPath.toStdString(), false);
    const std::optional<db::RunInfo> info = db.run(runId);
    if (!info) throw db::DbError(dbPath.toStdString() + ": no run " + std::to_string(runId));
    const qint64 shown = measured_run_of(*info);  // a validation report shows the run it measured
    const auto shownInfo = shown == runId ? info : db.run(shown);
    if (!shownInfo) throw db::DbError(dbPath.toStdString() + ": no run " + std::to_string(shown));
    runId_ = shown;
    runName_ = QString::fromStdString(shownInfo->name + " (" + shownInfo->kind + ")");
  } catch (const std::exception& e) {
    error = oneLine(e);
  }
  clearPage();
  if (!error.isEmpty()) {
    runId_ = 0;
    loadJob_->cancel();
    title_->setText(tr("No run"));
    updateVerdict();
    updateRecommendation();
    emit errorOccurred(error);
    return false;
  }
  title_->setText(tr("Run %1: %2").arg(runId_).arg(runName_));
  loadJob_->start([dbPath, run = runId_] { return loadComparisonData(dbPath, run); },
                  [this](ComparisonData loadedData) { showData(std::move(loadedData)); });
  updateVerdict();
  updateRangeLabel();
  updateRecommendation();
  return true;
}

void ComparisonPage::showData(ComparisonData result) {
  if (!result.error.isEmpty()) {
    clearPage();
    title_->setText(tr("Run %1: %2 (unreadable)").arg(runId_).arg(runName_));
    verdictSummary_ = result.error;
    verdictLabel_->setText(result.error);
    emit errorOccurred(result.error);
    emit verdictChanged(verdictSummary_);
    emit loaded();
    return;
  }
  comparison_->setComparison(result.comparison);
  deltas_->setOps(std::move(result.measured), std::move(result.predicted));
  breakdown_->setBreakdowns(std::move(result.breakdowns));
  QStringList blockSchedules;
  for (const auto& row : result.comparison.schedules) blockSchedules << QString::fromStdString(row.schedule);
  blocks_->setBlocks(std::move(result.blocks), blockSchedules);
  blocksBox_->setVisible(!blocks_->empty());
  for (int col = 0; col < blocks_->columnCount(); ++col) blocksView_->resizeColumnToContents(col);
  verdict_ = std::move(result.verdict);
  haveVerdict_ = true;
  comparisonProxy_->sort(-1);
  schedulesView_->resizeColumnsToContents();
  updateDeltaControls();
  updateRangeLabel();
  updateVerdict();
  emit loaded();
}

void ComparisonPage::updateVerdict() {
  QString text;
  if (runId_ <= 0) {
    text.clear();
  } else if (loading()) {
    text = tr("Loading run %1 ...").arg(runId_);
  } else if (haveVerdict_) {
    Verdict v = verdict_;
    // A run no report covers: the predicted best is the recommendation computed with the calibration file.
    if (!v.predicted_best && !recommended_.isEmpty()) {
      v.predicted_best = recommended_.toStdString();
      v.predicted_source = "calibration file";
      v.scope.calibration_id = recommendedCalibration_.toStdString();
      v.scope.calibration_created = recommendedCalibrationTime_.toStdString();
    }
    text = QString::fromStdString(verdict_summary(v));
  } else {
    return;  // an error is shown instead
  }
  verdictLabel_->setText(text.isEmpty() ? tr("No run") : text);
  if (text == verdictSummary_) return;
  verdictSummary_ = text;
  emit verdictChanged(verdictSummary_);
}

void ComparisonPage::setCalibrationPath(const QString& path) {
  calibrationPath_ = path;
  updateRecommendation();
}

void ComparisonPage::setTimeRange(qint64 startNs, qint64 endNs) {
  deltas_->setTimeRange(startNs, endNs);
  updateRangeLabel();
}

void ComparisonPage::setTimeRanges(const parm::ScheduleRanges& ranges) {
  deltas_->setTimeRanges(ranges);
  updateRangeLabel();
}

void ComparisonPage::clearTimeRange() {
  deltas_->clearTimeRange();
  updateRangeLabel();
}

void ComparisonPage::updateDeltaControls() {
  const QSignalBlocker ba(scheduleA_), bb(scheduleB_);
  const QStringList names = deltas_->schedules();
  scheduleA_->clear();
  scheduleB_->clear();
  scheduleA_->addItems(names);
  scheduleB_->addItems(names);
  scheduleA_->setCurrentText(deltas_->scheduleA());
  scheduleB_->setCurrentText(deltas_->scheduleB());
  deltaView_->resizeColumnsToContents();
}

void ComparisonPage::updateRangeLabel() {
  const auto r = deltas_->timeRange();
  const auto rs = deltas_->timeRanges();
  QString text = tr("whole run");
  if (r) {
    text = tr("range %1 .. %2 ms")
               .arg(1e-6 * double(r->start_ns), 0, 'f', 3)
               .arg(1e-6 * double(r->end_ns), 0, 'f', 3);
  } else if (rs) {
    QStringList parts;
    for (const auto& [schedule, range] : *rs)
      parts << tr("%1 %2 .. %3 ms")
                   .arg(QString::fromStdString(schedule))
                   .arg(1e-6 * double(range.start_ns), 0, 'f', 3)
                   .arg(1e-6 * double(range.end_ns), 0, 'f', 3);
    text =
        parts.isEmpty() ? tr("empty selection") : tr("selection: %1").arg(parts.join(QStringLiteral("; ")));
  }
  rangeLabel_->setText(text);
  clearRange_->setEnabled(r.has_value() || rs.has_value());
}

void ComparisonPage::chooseCalibration() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Calibration file"), calibrationPath_,
                                                    tr("Calibration (*.json);;All files (*)"));
  if (!path.isEmpty()) setCalibrationPath(path);
}

bool ComparisonPage::recommendationPending() const {
  return recommendationJob_->pending();
}

void ComparisonPage::updateRecommendation() {
  if (runId_ <= 0) {  // nothing to compute: cleared at once, and anything in flight is dropped
    recommendationJob_->cancel();
    showRecommendation({});
    return;
  }
  recommended_.clear();
  reason_.clear();
  chosen_->setText(tr("Computing the recommendation..."));
  reasonLabel_->clear();
  source_->clear();
  recommendationJob_->start(
      [dbPath = dbPath_, runId = runId_, calibration = calibrationPath_] {
        return computeRecommendation(dbPath, runId, calibration);
      },
      [this](const RecommendationView& view) { showRecommendation(view); });
}

void ComparisonPage::showRecommendation(const RecommendationView& view) {
  recommended_ = view.chosen;
  reason_ = view.reason;
  recommendedCalibration_ = view.calibration;
  recommendedCalibrationTime_ = view.calibrationCreated;
  // The measured verdict is in the banner; this box is the model's choice and its reason.
  chosen_->setText(recommended_.isEmpty() ? tr("No prediction (choose a calibration)")
                                          : tr("Predicted best %1").arg(recommended_));
  reasonLabel_->setText(view.error.isEmpty() ? reason_ : view.error);
  source_->setText(view.source);
  updateVerdict();
  emit recommendationChanged(recommended_, reason_);
}

}  // namespace parm::app
