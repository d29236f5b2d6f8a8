// What each page of the main window shows for the selected run, and how the pages talk to each other: the
// timeline's selection filters the per-op table, a breakdown bar selects its ops in the timeline, the
// verdict goes to the status bar, a calibration run opens its fits, File > Compare two runs. Apart from the
// window's construction (main_window.cpp) and its menus (main_menus.cpp).
#include <QDialog>
#include <QDialogButtonBox>
#include <QLabel>
#include <QProgressBar>
#include <QStatusBar>
#include <QTabWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <functional>

#include "app/calibration/calibration_page.h"
#include "app/compare/comparison_page.h"
#include "app/compare/run_diff_page.h"
#include "app/compare/sweep_page.h"
#include "app/launch/project.h"
#include "app/main_window.h"
#include "app/models/run_list_model.h"
#include "app/timeline/timeline_widget.h"
#include "engine/model/time_breakdown.h"

namespace parm::app {

void MainWindow::wirePages() {
  // A drawn range is one run-origin range per schedule: the per-op table applies each to its schedule.
  connect(timeline_, &TimelineWidget::scheduleRangesSelected, compare_, &ComparisonPage::setTimeRanges);
  connect(timeline_, &TimelineWidget::rangeCleared, compare_, &ComparisonPage::clearTimeRange);
  connect(compare_, &ComparisonPage::breakdownSegmentActivated, this,
          [this](const QString& schedule, int part, bool) { selectBreakdownOps(schedule, part); });
  connect(compare_, &ComparisonPage::verdictChanged, this, &MainWindow::showVerdict);
  connect(compare_, &ComparisonPage::loaded, this, &MainWindow::finishLoadingIfDone);
  connect(calibration_, &CalibrationPage::errorOccurred, this, [this](const QString& m) { showMessage(m); });
  connect(calibration_, &CalibrationPage::loadFinished, this, [this] { finishLoadingIfDone(); });

  verdictLabel_ = new QLabel;
  verdictLabel_->setObjectName("verdictLabel");
  verdictLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  verdictLabel_->setMaximumWidth(760);  // the whole line is the tooltip; status messages keep the left
  // Permanent: the status bar's passing messages ("Configuration valid") never hide the verdict.
  statusBar()->insertPermanentWidget(0, verdictLabel_);
}

void MainWindow::loadPages(qint64 runId) {
  // Called from selectRun itself: only a newer selection makes it stale (loadingRun_ may already be 0 when
  // the timeline finished first).
  if (runId != currentRun_) return;
  const QString db = project_->path();
  compare_->setRun(db, runId);
  // The sweep page shows a validation run (this one or the file's latest); a file without one has no scatter.
  const RunListModel* runs = project_->runs();
  for (int r = 0; r < runs->rowCount(); ++r)
    if (runs->row(r)->kind == "validation") {
      sweep_->setRun(db, runId);
      break;
    }
  finishLoadingIfDone();
}

void MainWindow::finishLoadingIfDone() {
  if (loadingRun_ == 0) return;
  if (isCalibrationRun(loadingRun_) ? calibration_->isLoading() : timelinePending_ || compare_->loading()) {
    if (!timelinePending_) {
      loadProgress_->setRange(0, 0);
      loadProgress_->setFormat(tr("Loading the comparison of run %1").arg(loadingRun_));
    }
    return;
  }
  setLoadingRun(0);
}

bool MainWindow::isCalibrationRun(qint64 runId) const {
  const int row = project_->runs()->rowOfRun(runId);
  return row >= 0 && project_->runs()->row(row)->kind == "calibration";
}

// A calibration run has no timeline and no schedules: its fits are what there is to see.
bool MainWindow::showCalibration(qint64 runId) {
  setRunPagesEnabled(false);
  verdictLabel_->clear();
  const bool ok = calibration_->setRun(project_->path(), runId);
  tabs_->setCurrentIndex(CalibrationTab);
  finishLoadingIfDone();
  return ok;
}

void MainWindow::setRunPagesEnabled(bool enabled) {
  for (int page : {int(TimelinePage), int(ComparePage)}) {
    tabs_->setTabEnabled(page, enabled);
    tabs_->setTabToolTip(page,
                         enabled ? QString() : tr("A calibration run has no timeline: see Calibration"));
  }
}

// A bar segment of the Compare page selects the ops that make it in the timeline: compute ops, the intra-
// or inter-node collectives, every collective (hidden communication, waiting for peers).
void MainWindow::selectBreakdownOps(const QString& schedule, int part) {
  std::function<bool(const TimelineEvent&)> which;
  switch (static_cast<BreakdownPart>(part)) {
    case BreakdownPart::Compute:
      which = [](const TimelineEvent& e) { return e.lane != 1 && e.lane != 2; };
      break;
    case BreakdownPart::IntraExposed:
      which = [](const TimelineEvent& e) { return e.lane == 1; };
      break;
    case BreakdownPart::InterExposed:
      which = [](const TimelineEvent& e) { return e.lane == 2; };
      break;
    case BreakdownPart::Hidden:
      which = [](const TimelineEvent& e) { return e.lane == 1 || e.lane == 2; };
      break;
    case BreakdownPart::Waiting:
      which = [](const TimelineEvent& e) { return e.flow >= 0; };
      break;
    case BreakdownPart::Idle:
      return;  // nothing ran: there is nothing to select
  }
  const int count = timeline_->selectOps(schedule, which);
  tabs_->setCurrentIndex(TimelinePage);
  statusBar()->showMessage(
      tr("%1 ops of %2 selected (%3)")
          .arg(count)
          .arg(schedule, QString::fromLatin1(to_string(static_cast<BreakdownPart>(part)))),
      8000);
}

void MainWindow::showVerdict(const QString& summary) {
  // The status bar keeps the first clause; the whole line (what it is for) is the tooltip.
  const QString head = summary.section(QStringLiteral(" \u00b7 "), 0, 1);
  verdictLabel_->setText(head);
  verdictLabel_->setToolTip(summary);
}

QString MainWindow::verdictText() const {
  return verdictLabel_ ? verdictLabel_->text() : QString();
}

void MainWindow::openRunDiff() {
  if (!project_->isOpen() || currentRun_ == 0) {
    showMessage(tr("Select a measured run first: it is compared with the measured run before it"));
    return;
  }
  // After = the run shown (a validation shows what it measured), before = the measured run before it.
  const qint64 after = compare_->runId() != 0 ? compare_->runId() : currentRun_;
  qint64 before = 0;
  const RunListModel* runs = project_->runs();
  for (int r = 0; r < runs->rowCount(); ++r) {
    const RunListModel::Row* row = runs->row(r);
    if (row->kind == "measured" && row->id < after) before = std::max<qint64>(before, row->id);
  }
  if (before == 0) {
    showMessage(tr("Run %1 has no measured run before it to compare with").arg(after), false);
    return;
  }
  if (!runDiffDialog_) {
    runDiffDialog_ = new QDialog(this);
    runDiffDialog_->setObjectName("runDiffDialog");
    runDiffDialog_->setWindowTitle(tr("Compare two runs"));
    runDiffDialog_->resize(1100, 700);
    runDiff_ = new RunDiffPage;
    auto* layout = new QVBoxLayout(runDiffDialog_);
    layout->addWidget(runDiff_);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    connect(buttons, &QDialogButtonBox::rejected, runDiffDialog_, &QDialog::hide);
    layout->addWidget(buttons);
    connect(runDiff_, &RunDiffPage::errorOccurred, this, [this](const QString& m) { showMessage(m); });
  }
  runDiff_->setRuns(project_->path(), before, after);
  runDiffDialog_->show();
  runDiffDialog_->raise();
}

}  // namespace parm::app
