#include "app/compare/run_diff_page.h"

#include <QComboBox>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QRegularExpression>
#include <QSignalBlocker>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>
#include <exception>
#include <optional>
#include <vector>

#include "app/compare/run_diff_model.h"
#include "app/models/latest_job.h"
#include "db/database.h"

namespace parm::app {

// What the worker hands back: the project's runs for the pickers and the comparison, or one line.
struct RunDiffResult {
  struct Choice {
    qint64 id = 0;
    QString label;
  };
  std::vector<Choice> runs;
  std::optional<parm::RunDiff> diff;
  QString error;
};

namespace {

RunDiffResult compare(const QString& path, qint64 before, qint64 after) {
  RunDiffResult out;
  try {
    const db::Database d = db::Database::open(path.toStdString(), false);
    for (const db::RunInfo& r : d.runs()) {
      if (r.kind == "validation" || r.kind == "calibration" || r.kind == "prediction") continue;
      out.runs.push_back({r.id, QStringLiteral("%1  %2 (%3, %4 ranks, %5)")
                                    .arg(r.id)
                                    .arg(QString::fromStdString(r.name), QString::fromStdString(r.kind))
                                    .arg(r.ranks)
                                    .arg(QString::fromStdString(r.started_at))});
    }
    out.diff = diff_runs(load_run_samples(d, before), load_run_samples(d, after));
  } catch (const std::exception& e) {
    out.error = QString::fromStdString(e.what()).replace(QLatin1Char('\n'), QLatin1Char(' '));
  }
  return out;
}

QTableView* makeTable(QAbstractItemModel* model, QWidget* parent) {
  auto* view = new QTableView(parent);
  view->setModel(model);
  view->setSelectionBehavior(QAbstractItemView::SelectRows);
  view->setSelectionMode(QAbstractItemView::SingleSelection);
  view->setSortingEnabled(true);
  view->horizontalHeader()->setSortIndicator(-1, Qt::AscendingOrder);  // the model's order until a click
  view->verticalHeader()->hide();
  view->horizontalHeader()->setStretchLastSection(true);
  view->setWordWrap(false);
  return view;
}

}  // namespace

RunDiffPage::RunDiffPage(QWidget* parent)
    : QWidget(parent),
      schedules_(new RunDiffModel(RunDiffModel::Rows::Schedules, this)),
      ops_(new RunDiffModel(RunDiffModel::Rows::Ops, this)),
      job_(new LatestJob(this)),
      opsProxy_(new QSortFilterProxyModel(this)),
      beforePicker_(new QComboBox(this)),
      afterPicker_(new QComboBox(this)),
      status_(new QLabel(this)) {
  opsProxy_->setSourceModel(ops_);
  opsProxy_->setFilterKeyColumn(RunDiffModel::Schedule);
  opsProxy_->setSortRole(RunDiffModel::ValueRole);

  auto* pickers = new QHBoxLayout;
  pickers->addWidget(new QLabel(tr("Before:"), this));
  pickers->addWidget(beforePicker_, 1);
  pickers->addWidget(new QLabel(tr("After:"), this));
  pickers->addWidget(afterPicker_, 1);
  beforePicker_->setAccessibleName(tr("Run before"));
  afterPicker_->setAccessibleName(tr("Run after"));
  status_->setWordWrap(true);
  status_->setTextInteractionFlags(Qt::TextSelectableByMouse);

  schedulesView_ = makeTable(schedules_, this);
  schedulesView_->setSortingEnabled(false);  // registry order
  for (int c : {RunDiffModel::Phase, RunDiffModel::Op, RunDiffModel::Purpose}) schedulesView_->hideColumn(c);
  opsView_ = makeTable(opsProxy_, this);
  opsView_->hideColumn(RunDiffModel::Schedule);

  auto* tables = new QSplitter(Qt::Vertical, this);
  tables->addWidget(schedulesView_);
  tables->addWidget(opsView_);
  tables->setStretchFactor(1, 2);
  tables->setSizes({280, 520});  // the seven schedule rows visible at once

  auto* layout = new QVBoxLayout(this);
  layout->addLayout(pickers);
  layout->addWidget(status_);
  layout->addWidget(tables, 1);

  connect(beforePicker_, &QComboBox::activated, this, &RunDiffPage::pickerChanged);
  connect(afterPicker_, &QComboBox::activated, this, &RunDiffPage::pickerChanged);
  connect(schedulesView_->selectionModel(), &QItemSelectionModel::selectionChanged, this,
          &RunDiffPage::filterOpsBySelectedSchedule);
  status_->setText(tr("Pick two runs of the same layer: before and after."));
}

QString RunDiffPage::statusText() const {
  return status_->text();
}

bool RunDiffPage::setRuns(const QString& dbPath, qint64 before, qint64 after) {
  if (dbPath.isEmpty() || !QFileInfo(dbPath).isFile()) {
    fail(dbPath.isEmpty() ? tr("no project file") : tr("%1: no such file").arg(dbPath));
    return false;
  }
  if (before == after) {
    fail(tr("pick two different runs (both are run %1)").arg(before));
    return false;
  }
  dbPath_ = dbPath;
  before_ = before;
  after_ = after;
  status_->setText(tr("Comparing run %1 with run %2...").arg(before).arg(after));
  job_->start([path = dbPath, before, after] { return compare(path, before, after); },
              [this](RunDiffResult result) { showResult(std::move(result)); });
  return true;
}

void RunDiffPage::fail(const QString& message) {
  schedules_->clear();
  ops_->clear();
  status_->setText(message);
  schedulesView_->resizeColumnsToContents();
  opsView_->resizeColumnsToContents();
  emit errorOccurred(message);
}

void RunDiffPage::showResult(RunDiffResult result) {
  for (QComboBox* picker : {beforePicker_, afterPicker_}) {
    const QSignalBlocker block(picker);
    picker->clear();
    for (const RunDiffResult::Choice& c : result.runs) picker->addItem(c.label, c.id);
  }
  beforePicker_->setCurrentIndex(beforePicker_->findData(before_));
  afterPicker_->setCurrentIndex(afterPicker_->findData(after_));
  if (!result.diff) {
    fail(result.error);
    return;
  }
  schedules_->setDiff(*result.diff);
  ops_->setDiff(*result.diff);
  schedulesView_->resizeColumnsToContents();
  opsView_->resizeColumnsToContents();
  filterOpsBySelectedSchedule();
  status_->setText(tr("Run %1 (before) vs run %2 (after): median (p10 - p90) over iterations and ranks; "
                      "overlapping spreads are no change within noise.")
                       .arg(before_)
                       .arg(after_));
  emit diffLoaded();
}

void RunDiffPage::pickerChanged() {
  const qint64 before = beforePicker_->currentData().toLongLong();
  const qint64 after = afterPicker_->currentData().toLongLong();
  if (before > 0 && after > 0) setRuns(dbPath_, before, after);
}

void RunDiffPage::filterOpsBySelectedSchedule() {
  const QModelIndexList rows = schedulesView_->selectionModel()->selectedRows(RunDiffModel::Schedule);
  const QString schedule = rows.isEmpty() ? QString() : rows.front().data().toString();
  // Anchored: "S1" must not also keep S1F's ops.
  opsProxy_->setFilterRegularExpression(
      schedule.isEmpty() ? QString() : QStringLiteral("^%1$").arg(QRegularExpression::escape(schedule)));
  opsView_->setColumnHidden(RunDiffModel::Schedule, !schedule.isEmpty());
}

}  // namespace parm::app
