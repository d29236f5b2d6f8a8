#include "app/compare/sweep_page.h"

#include <QChart>
#include <QChartView>
#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QCursor>
#include <QDir>
#include <QEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineSeries>
#include <QProcess>
#include <QPushButton>
#include <QScatterSeries>
#include <QSignalBlocker>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStackedWidget>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>
#include <exception>
#include <nlohmann/json.hpp>

#include "app/compare/heat_map_widget.h"
#include "app/compare/schedule_colors.h"
#include "app/compare/sweep_bars_chart.h"
#include "app/compare/sweep_model.h"
#include "db/database.h"
#include "db/run_queries.h"

namespace parm::app {
namespace {

QString defaultParm() {
  // Next to the GUI in the build tree (build/app/../engine/parm), else on PATH.
  const QString built =
      QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("../engine/parm"));
  if (QFileInfo(built).isExecutable()) return QFileInfo(built).canonicalFilePath();
  return QStandardPaths::findExecutable(QStringLiteral("parm"));
}

QString configurations(int n) {
  return n == 1 ? QObject::tr("1 configuration") : QObject::tr("%1 configurations").arg(n);
}

QString lastLine(const QByteArray& text) {
  const QList<QByteArray> lines = text.trimmed().split('\n');
  return lines.isEmpty() ? QString() : QString::fromUtf8(lines.back()).trimmed();
}

}  // namespace

SweepPage::SweepPage(QWidget* parent)
    : QWidget(parent),
      parmExe_(defaultParm()),
      validation_(new SweepModel(this)),
      sweep_(new SweepModel(this)),
      chart_(new QChart) {
  chart_->setTitle(tr("Predicted vs measured layer time"));
  chartView_ = new QChartView(chart_, this);  // takes ownership of the chart
  chartView_->setRenderHint(QPainter::Antialiasing);

  heat_ = new HeatMapWidget(this);
  xCombo_ = new QComboBox(this);
  yCombo_ = new QComboBox(this);
  connect(xCombo_, &QComboBox::currentIndexChanged, this, [this] { rebuildHeatControls(); });
  connect(yCombo_, &QComboBox::currentIndexChanged, this, [this] { rebuildHeatControls(); });
  auto* heatControls = new QWidget(this);
  fixedForm_ = new QFormLayout(heatControls);
  fixedForm_->addRow(tr("x axis"), xCombo_);
  fixedForm_->addRow(tr("y axis"), yCombo_);
  auto* heatPane = new QSplitter(Qt::Horizontal, this);
  heatPane->addWidget(heat_);
  heatPane->addWidget(heatControls);
  heatPane->setStretchFactor(0, 1);
  // One configuration: its schedules as bars (a heat map of it would be one cell).
  barsChart_ = new QChart;
  auto* barsView = new QChartView(barsChart_, this);  // takes ownership of the chart
  barsView->setRenderHint(QPainter::Antialiasing);
  heatStack_ = new QStackedWidget(this);
  heatStack_->addWidget(heatPane);
  heatStack_->addWidget(barsView);
  heatNote_ = new QLabel(this);
  heatNote_->setWordWrap(true);
  auto* heatTab = new QWidget(this);
  auto* heatLayout = new QVBoxLayout(heatTab);
  heatLayout->setContentsMargins(0, 0, 0, 0);
  heatLayout->addWidget(heatNote_);
  heatLayout->addWidget(heatStack_, 1);

  table_ = new QTableView(this);
  tableProxy_ = new QSortFilterProxyModel(this);
  tableProxy_->setSourceModel(validation_);
  tableProxy_->setSortRole(SweepModel::ValueRole);
  table_->setModel(tableProxy_);
  table_->setSortingEnabled(true);
  table_->verticalHeader()->hide();

  auto* tabs = new QTabWidget(this);
  tabs->addTab(chartView_, tr("Predicted vs measured"));
  tabs->addTab(heatTab, tr("Chosen schedule"));
  tabs->addTab(table_, tr("Sweep table"));

  loadButton_ = new QPushButton(tr("Load sweep CSV..."), this);
  runButton_ = new QPushButton(tr("Run sweep..."), this);
  force_ = new QCheckBox(tr("--force"), this);
  force_->setToolTip(tr("Sweep even when the calibration was measured on another layout"));
  status_ = new QLabel(this);
  connect(loadButton_, &QPushButton::clicked, this, [this] {
    const QString path = QFileDialog::getOpenFileName(this, tr("Sweep CSV (parm sweep --out)"), {},
                                                      tr("CSV (*.csv);;All files (*)"));
    if (path.isEmpty()) return;
    if (const QString error = loadSweepCsv(path); !error.isEmpty()) emit errorOccurred(error);
  });
  connect(runButton_, &QPushButton::clicked, this, [this] {
    const QString grid = QFileDialog::getOpenFileName(this, tr("Grid file"), {}, tr("Grid (*.json)"));
    if (grid.isEmpty()) return;
    const QString cal =
        QFileDialog::getOpenFileName(this, tr("Calibration file"), {}, tr("Calibration (*.json)"));
    if (!cal.isEmpty()) runSweep(grid, cal, force_->isChecked());
  });
  auto* bar = new QHBoxLayout;
  bar->addWidget(loadButton_);
  bar->addWidget(runButton_);
  bar->addWidget(force_);
  bar->addWidget(status_, 1);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(bar);
  layout->addWidget(tabs, 1);
  applyChartTheme();
  rebuildScatter();
  rebuildHeatControls();
}

void SweepPage::applyChartTheme() {
  // The charts follow the window's palette (a dark theme on a dark window keeps their text readable); a
  // theme resets series colours, so the schedules' own colours are applied again.
  const bool dark = palette().color(QPalette::Window).lightness() < 128;
  const QChart::ChartTheme theme = dark ? QChart::ChartThemeDark : QChart::ChartThemeLight;
  if (chart_->theme() == theme && barsChart_->theme() == theme) return;
  chart_->setTheme(theme);
  barsChart_->setTheme(theme);
  rebuildScatter();
  updateHeatMap();
}

void SweepPage::changeEvent(QEvent* event) {
  if (event->type() == QEvent::PaletteChange) applyChartTheme();
  QWidget::changeEvent(event);
}

SweepPage::~SweepPage() {
  if (process_) {
    process_->disconnect(this);
    process_->kill();
    process_->waitForFinished(2000);
  }
}

bool SweepPage::setRun(const QString& dbPath, qint64 runId) {
  qint64 validationRun = runId;
  QString error;
  try {
    const auto db = db::Database::open(dbPath.toStdString(), false);
    const auto run = db.run(runId);
    if (!run || run->kind != "validation") {
      const std::optional<std::int64_t> latest = db::latest_run_of_kind(db, "validation", true);
      if (!latest) throw db::DbError(dbPath.toStdString() + ": no validation run (parm validate --db)");
      validationRun = *latest;
    }
  } catch (const std::exception& e) {
    error = QString::fromStdString(e.what()).replace(QLatin1Char('\n'), QLatin1Char(' '));
  }
  if (error.isEmpty()) error = validation_->loadValidationRun(dbPath, validationRun);
  if (!error.isEmpty()) validation_->clear();
  rebuildScatter();
  rebuildHeatControls();
  updateTableSource();
  if (!error.isEmpty()) {
    emit errorOccurred(error);
    return false;
  }
  status_->setText(
      tr("validation run %1: %2").arg(validationRun).arg(configurations(validation_->rowCount())));
  return true;
}

QString SweepPage::loadSweepCsv(const QString& path) {
  const QString error = sweep_->loadSweepCsv(path);
  if (error.isEmpty())
    status_->setText(tr("%1: %2").arg(QFileInfo(path).fileName(), configurations(sweep_->rowCount())));
  updateTableSource();
  rebuildHeatControls();
  return error;
}

bool SweepPage::isSweepRunning() const {
  return process_ != nullptr;
}

bool SweepPage::runSweep(const QString& gridPath, const QString& calibrationPath, bool force) {
  QString error;
  if (process_)
    error = tr("a sweep is already running");
  else if (parmExe_.isEmpty() || !QFileInfo(parmExe_).isExecutable())
    error = tr("parm executable not found (%1)").arg(parmExe_.isEmpty() ? tr("not on PATH") : parmExe_);
  tmp_ = std::make_unique<QTemporaryDir>();
  if (error.isEmpty() && !tmp_->isValid()) error = tr("cannot create a temporary directory");
  if (!error.isEmpty()) {
    emit errorOccurred(error);
    return false;
  }
  QStringList args{QStringLiteral("sweep"),
                   QStringLiteral("--grid"),
                   gridPath,
                   QStringLiteral("--calibration"),
                   calibrationPath,
                   QStringLiteral("--out"),
                   tmp_->filePath(QStringLiteral("sweep.csv")),
                   QStringLiteral("--json")};
  if (force) args << QStringLiteral("--force");
  process_ = new QProcess(this);
  connect(process_, &QProcess::finished, this, &SweepPage::sweepDone);
  connect(process_, &QProcess::errorOccurred, this, [this](QProcess::ProcessError e) {
    if (e == QProcess::FailedToStart) sweepDone();
  });
  runButton_->setEnabled(false);
  status_->setText(tr("sweeping %1 ...").arg(QFileInfo(gridPath).fileName()));
  process_->start(parmExe_, args);
  return true;
}

void SweepPage::sweepDone() {
  QProcess* p = process_;
  if (!p) return;
  process_ = nullptr;
  p->deleteLater();
  runButton_->setEnabled(true);
  QString error;
  if (p->error() == QProcess::FailedToStart)
    error = tr("cannot start %1: %2").arg(parmExe_, p->errorString());
  else if (p->exitStatus() != QProcess::NormalExit || p->exitCode() != 0)
    error = lastLine(p->readAllStandardError());
  if (error.isEmpty() && p->exitCode() != 0) error = tr("parm sweep failed (exit %1)").arg(p->exitCode());
  if (error.isEmpty()) error = loadSweepCsv(tmp_->filePath(QStringLiteral("sweep.csv")));
  if (error.isEmpty()) {
    const auto summary = nlohmann::json::parse(p->readAllStandardOutput().toStdString(), nullptr, false);
    if (summary.is_object())
      status_->setText(tr("grid %1: %2 configurations predicted, %3 invalid")
                           .arg(QString::fromStdString(summary.value("grid", std::string())))
                           .arg(summary.value("predicted", 0))
                           .arg(summary.value("invalid", 0)));
  } else {
    status_->setText(error);
    emit errorOccurred(error);
  }
  emit sweepFinished(error);
}

SweepModel* SweepPage::heatSource() const {
  return sweep_->rowCount() > 0 ? sweep_ : validation_;
}

void SweepPage::updateTableSource() {
  if (tableProxy_->sourceModel() != heatSource()) tableProxy_->setSourceModel(heatSource());
  table_->resizeColumnsToContents();
}

QAbstractItemModel* SweepPage::tableModel() const {
  return tableProxy_;
}

bool SweepPage::showsPerScheduleView() const {
  return heatStack_->currentIndex() == 1;
}

QString SweepPage::heatNote() const {
  return heatNote_->text();
}

void SweepPage::rebuildScatter() {
  chart_->removeAllSeries();
  for (QAbstractAxis* a : chart_->axes()) {
    chart_->removeAxis(a);
    delete a;
  }
  auto* x = new QValueAxis;
  auto* y = new QValueAxis;
  x->setTitleText(tr("predicted layer ms"));
  y->setTitleText(tr("measured layer ms"));
  chart_->addAxis(x, Qt::AlignBottom);
  chart_->addAxis(y, Qt::AlignLeft);
  double hi = 0;
  for (const QString& schedule : validation_->schedules()) {
    auto* series = new QScatterSeries;
    series->setName(schedule);
    series->setColor(scheduleColor(schedule));
    series->setMarkerSize(9);
    QStringList labels;  // index-aligned with the points, for the tooltip
    for (const SweepRow& r : validation_->rows()) {
      if (!r.predicted.contains(schedule) || !r.measured.contains(schedule)) continue;
      const QPointF pt(r.predicted.value(schedule), r.measured.value(schedule));
      series->append(pt);
      labels << r.label;
      hi = std::max({hi, pt.x(), pt.y()});
    }
    chart_->addSeries(series);
    series->attachAxis(x);
    series->attachAxis(y);
    connect(series, &QScatterSeries::hovered, this, [series, labels, schedule](const QPointF& pt, bool on) {
      if (!on) {
        QToolTip::hideText();
        return;
      }
      const QList<QPointF> points = series->points();
      qsizetype best = -1;
      double bestD = 0;
      for (qsizetype i = 0; i < points.size(); ++i) {
        const double d = std::hypot(points[i].x() - pt.x(), points[i].y() - pt.y());
        if (best < 0 || d < bestD) best = i, bestD = d;
      }
      if (best < 0) return;
      const QPointF p = points[best];
      QToolTip::showText(QCursor::pos(),
                         QObject::tr("%1 %2\npredicted %3 ms, measured %4 ms (%5%)")
                             .arg(labels.value(best), schedule)
                             .arg(p.x(), 0, 'f', 3)
                             .arg(p.y(), 0, 'f', 3)
                             .arg(p.y() > 0 ? 100.0 * (p.x() - p.y()) / p.y() : 0.0, 0, 'f', 1));
    });
  }
  // y = x: points above it ran slower than predicted.
  auto* ref = new QLineSeries;
  ref->setName(tr("y = x"));
  ref->setPen(QPen(Qt::gray, 1, Qt::DashLine));
  const double top = hi > 0 ? hi * 1.05 : 1.0;
  ref->append(0, 0);
  ref->append(top, top);
  chart_->addSeries(ref);
  ref->attachAxis(x);
  ref->attachAxis(y);
  x->setRange(0, top);
  y->setRange(0, top);
  x->applyNiceNumbers();
  y->applyNiceNumbers();
}

void SweepPage::setHeatAxes(const QString& xParam, const QString& yParam) {
  {
    const QSignalBlocker bx(xCombo_), by(yCombo_);
    xCombo_->setCurrentText(xParam);
    yCombo_->setCurrentText(yParam);
  }
  rebuildHeatControls();
}

void SweepPage::setFixedParams(const QMap<QString, double>& fixed) {
  for (auto it = fixedCombos_.begin(); it != fixedCombos_.end(); ++it) {
    const QSignalBlocker b(it.value());
    const int i = fixed.contains(it.key()) ? it.value()->findData(fixed.value(it.key())) : 0;
    it.value()->setCurrentIndex(std::max(0, i));
  }
  updateHeatMap();
}

void SweepPage::rebuildHeatControls() {
  const SweepModel* m = heatSource();
  // Two or more varied parameters: those are the axes to choose from. With one, every parameter is offered,
  // x defaults to the varied one and y to a fixed one (one row), never both the same parameter.
  const QStringList varied = m->variedParams();
  const QStringList params = varied.size() >= 2 ? varied : m->params();
  QString x = xCombo_->currentText(), y = yCombo_->currentText();
  if (!params.contains(x)) x = varied.isEmpty() ? params.value(0) : varied.front();
  if (!params.contains(y) || y == x) {
    y.clear();
    for (const QString& p : varied)  // a varied one when there is another, else the first fixed one
      if (p != x && y.isEmpty()) y = p;
    for (const QString& p : params)
      if (p != x && y.isEmpty()) y = p;
  }
  {
    const QSignalBlocker bx(xCombo_), by(yCombo_);
    if (xCombo_->count() != params.size() || [&] {
          for (int i = 0; i < params.size(); ++i)
            if (xCombo_->itemText(i) != params[i]) return true;
          return false;
        }()) {
      xCombo_->clear();
      yCombo_->clear();
      xCombo_->addItems(params);
      yCombo_->addItems(params);
    }
    xCombo_->setCurrentText(x);
    yCombo_->setCurrentText(y);
  }
  // One combo per other varied parameter: "all" (aggregated) or one of its values; kept across rebuilds.
  QMap<QString, QVariant> previous;
  for (auto it = fixedCombos_.begin(); it != fixedCombos_.end(); ++it) {
    previous[it.key()] = it.value()->currentData();
    fixedForm_->removeRow(it.value());
  }
  fixedCombos_.clear();
  for (const QString& p : params) {
    if (p == x || p == y || !varied.contains(p)) continue;  // a parameter of one value needs no combo
    auto* combo = new QComboBox;
    combo->addItem(tr("all (aggregated)"));
    for (double v : m->paramValues(p)) combo->addItem(QString::number(v, 'g', 6), v);
    if (previous.value(p).isValid()) combo->setCurrentIndex(std::max(0, combo->findData(previous.value(p))));
    connect(combo, &QComboBox::currentIndexChanged, this, [this] { updateHeatMap(); });
    fixedForm_->addRow(p, combo);
    fixedCombos_[p] = combo;
  }
  updateHeatMap();
}

void SweepPage::updateHeatMap() {
  QMap<QString, double> fixed;
  for (auto it = fixedCombos_.begin(); it != fixedCombos_.end(); ++it)
    if (it.value()->currentData().isValid()) fixed[it.key()] = it.value()->currentData().toDouble();
  const SweepModel* m = heatSource();
  heat_->setHeatMap(m->heatMap(xCombo_->currentText(), yCombo_->currentText(), fixed));
  const int n = m->rowCount();
  if (n == 1) {
    plotScheduleBars(barsChart_, m->rows().front(), m->schedules());
    heatStack_->setCurrentIndex(1);
    heatNote_->setText(tr("One configuration: a map of the chosen schedule needs two or more (load or run a "
                          "sweep); here is each schedule's %1 layer time instead.")
                           .arg(m->hasMeasured() ? tr("measured and predicted") : tr("predicted")));
    return;
  }
  heatStack_->setCurrentIndex(0);
  heatNote_->setText(n == 0
                         ? tr("No configurations: select a validation run, or load or run a sweep.")
                         : tr("%1 configurations from %2; each cell is the predicted best schedule and its "
                              "speedup over B_DS.")
                               .arg(n)
                               .arg(m == sweep_ ? tr("the sweep") : tr("the validation run")));
}

}  // namespace parm::app
