#include "app/calibration/calibration_page.h"

#include <QChart>
#include <QChartView>
#include <QEvent>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>
#include <algorithm>

#include "app/calibration/calibration_environment.h"
#include "app/calibration/calibration_fits_model.h"
#include "app/calibration/calibration_load.h"
#include "app/calibration/fit_chart.h"
#include "app/calibration/nccl_table_model.h"
#include "app/models/latest_job.h"
#include "db/file_probe.h"

namespace parm::app {
namespace {

QTableView* makeTable(QAbstractItemModel* model, QWidget* parent) {
  auto* view = new QTableView(parent);
  view->setModel(model);
  view->verticalHeader()->hide();
  view->setSelectionBehavior(QAbstractItemView::SelectRows);
  view->setSelectionMode(QAbstractItemView::SingleSelection);
  view->setAlternatingRowColors(true);
  return view;
}

QLabel* makeLabel(QWidget* parent) {
  auto* label = new QLabel(parent);
  label->setWordWrap(true);
  label->setTextInteractionFlags(Qt::TextSelectableByMouse);  // values can be copied
  return label;
}

// Why a path cannot be a project, decided without opening it (stat and the header only).
QString notAProject(const QString& path) {
  const db::FileProbe probe = db::probe_file(path.toStdString());
  switch (probe.kind) {
    case db::FileKind::Missing:
      return QObject::tr("%1: no such file").arg(path);
    case db::FileKind::Directory:
      return QObject::tr("%1: a directory, not a project file").arg(path);
    case db::FileKind::NotRegular:
      return QObject::tr("%1: not a regular file").arg(path);
    case db::FileKind::Unreadable:
      return QObject::tr("%1: cannot read (%2)").arg(path, QString::fromStdString(probe.error));
    case db::FileKind::Empty:
      return QObject::tr("%1: an empty file, not a project").arg(path);
    case db::FileKind::NotSqlite:
      return QObject::tr("%1: not a Parm Studio project (not an SQLite file)").arg(path);
    case db::FileKind::Sqlite:
      break;
  }
  return {};
}

}  // namespace

CalibrationPage::CalibrationPage(QWidget* parent)
    : QWidget(parent),
      fits_(new CalibrationFitsModel(this)),
      nccl_(new NcclTableModel(this)),
      job_(new LatestJob(this)),
      chart_(new QChart) {
  fitsView_ = makeTable(fits_, this);
  fitsView_->setWordWrap(false);  // one line a fit; a long shape is elided (whole in its tooltip)
  ncclView_ = makeTable(nccl_, this);
  chartView_ = new QChartView(chart_, this);  // takes ownership of the chart
  chartView_->setRenderHint(QPainter::Antialiasing);
  chartView_->setMinimumSize(360, 260);
  summary_ = makeLabel(this);
  ncclCaption_ = makeLabel(this);
  environment_ = makeLabel(this);
  connect(fitsView_->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
          [this](const QModelIndex& current) {
            if (current.row() != selected_) selectFit(current.row());
          });

  auto* top = new QSplitter(Qt::Horizontal, this);
  top->addWidget(fitsView_);
  top->addWidget(chartView_);
  top->setSizes({860, 540});
  auto* bottom = new QWidget(this);
  auto* bottomLayout = new QVBoxLayout(bottom);
  bottomLayout->setContentsMargins(0, 0, 0, 0);
  bottomLayout->addWidget(ncclCaption_);
  bottomLayout->addWidget(ncclView_, 1);
  bottomLayout->addWidget(environment_);
  auto* split = new QSplitter(Qt::Vertical, this);
  split->addWidget(top);
  split->addWidget(bottom);
  split->setSizes({640, 220});
  auto* layout = new QVBoxLayout(this);
  layout->addWidget(summary_);
  layout->addWidget(split, 1);

  applyChartTheme();
  summary_->setText(tr("No calibration run selected"));
  clearFitPlot(chart_, tr("Select a fit"));
  nccl_->setFit(nullptr);
  ncclCaption_->setText(nccl_->caption());
}

CalibrationPage::~CalibrationPage() {
  job_->cancel();
  job_->waitForIdle();  // the job refers to nothing of ours, but its delivery would
}

bool CalibrationPage::setRun(const QString& dbPath, qint64 runId) {
  if (const QString error = notAProject(dbPath); !error.isEmpty()) {
    job_->cancel();
    display(CalibrationRunData{runId, {}, {}, 0, {}, false, error});
    return false;
  }
  runId_ = runId;
  summary_->setText(tr("Reading calibration run %1 ...").arg(runId));
  job_->start([dbPath, runId] { return loadCalibrationRun(dbPath, runId); },
              [this](CalibrationRunData loaded) { display(loaded); });
  return true;
}

bool CalibrationPage::isLoading() const {
  return job_->pending();
}

void CalibrationPage::display(const CalibrationRunData& loaded) {
  runId_ = loaded.runId;
  selected_ = -1;
  if (!loaded.error.isEmpty()) {
    fits_->clear();
    nccl_->setFit(nullptr);
    clearFitPlot(chart_, tr("No calibration"));
    summary_->setText(loaded.error);
    ncclCaption_->clear();
    environment_->clear();
    emit errorOccurred(loaded.error);
    emit loadFinished(loaded.error);
    return;
  }
  fits_->setCalibration(loaded.calibration);
  fitsView_->resizeColumnsToContents();
  // A compute fit's shape can be long ("fp32, M 64, Hs 256, E_loc 2, GELU, bias"): elided, whole in the
  // tooltip, so r2 and the sample count stay in view.
  fitsView_->setColumnWidth(CalibrationFitsModel::DtypeShape,
                            std::min(fitsView_->columnWidth(CalibrationFitsModel::DtypeShape), 150));
  summary_->setText(tr("Calibration run %1 (%2, %3 ranks, stored %4): %5 fits. %6%7")
                        .arg(loaded.runId)
                        .arg(loaded.runName)
                        .arg(loaded.ranks)
                        .arg(loaded.startedAt)
                        .arg(fits_->rowCount())
                        .arg(calibrationSummary(loaded.calibration))
                        .arg(loaded.hasSamples ? QString()
                                               : tr(" (no result JSON: fits from the calibrations table, "
                                                    "no samples)")));
  environment_->setText(calibrationEnvironment(loaded.calibration));
  selectFit(fits_->rowCount() > 0 ? 0 : -1);
  emit loadFinished({});
}

bool CalibrationPage::selectFit(int row) {
  const CalibrationFit* fit = fits_->fit(row);
  selected_ = fit ? row : -1;
  if (fit)
    plotFit(chart_, *fit);
  else
    clearFitPlot(chart_, tr("Select a fit"));
  nccl_->setFit(fit);
  ncclView_->resizeColumnsToContents();
  ncclCaption_->setText(nccl_->caption());
  if (fit && fitsView_->currentIndex().row() != row) fitsView_->selectRow(row);
  return fit != nullptr;
}

QString CalibrationPage::environmentText() const {
  return environment_->text();
}

QString CalibrationPage::summaryText() const {
  return summary_->text();
}

void CalibrationPage::applyChartTheme() {
  // The chart follows the window's palette: a dark theme on a dark window, so its text stays readable.
  const bool dark = palette().color(QPalette::Window).lightness() < 128;
  const QChart::ChartTheme theme = dark ? QChart::ChartThemeDark : QChart::ChartThemeLight;
  if (chart_->theme() != theme) {
    chart_->setTheme(theme);
    if (const CalibrationFit* fit = fits_->fit(selected_)) plotFit(chart_, *fit);  // series colours reset
  }
}

void CalibrationPage::changeEvent(QEvent* event) {
  if (event->type() == QEvent::PaletteChange) applyChartTheme();
  QWidget::changeEvent(event);
}

}  // namespace parm::app
