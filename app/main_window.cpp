#include "app/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QEventLoop>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QMenuBar>
#include <QProgressBar>
#include <QPushButton>
#include <QSaveFile>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "app/calibration/calibration_page.h"
#include "app/compare/comparison_page.h"
#include "app/compare/export_actions.h"
#include "app/compare/sweep_page.h"
#include "app/config_page.h"
#include "app/launch/launch_panel.h"
#include "app/launch/nsys_import.h"
#include "app/launch/parm_process.h"
#include "app/launch/project.h"
#include "app/launch/recent_projects.h"
#include "app/message_bar.h"
#include "app/models/run_list_model.h"
#include "app/timeline/timeline_widget.h"
#include "app/tone_delegate.h"
#include "db/database.h"
#include "engine/model/verdict.h"

namespace parm::app {

MainWindow::MainWindow(const QString& parmExecutable, QWidget* parent)
    : QMainWindow(parent),
      project_(new Project(this)),
      config_(new ConfigPage),
      launch_(new LaunchPanel(parmExecutable)),
      timeline_(new TimelineWidget),
      compare_(new ComparisonPage),
      sweep_(new SweepPage),
      calibration_(new CalibrationPage),
      exports_(new ExportActions(this)),
      tabs_(new QTabWidget),
      runsView_(new QTableView) {
  setWindowTitle(tr("Parm Studio"));
  sweep_->setParmExecutable(launch_->process()->executable());
  launch_->setProject(project_);

  // Configure = the form on the left, the launch panel (command line, log) below it.
  auto* configure = new QSplitter(Qt::Vertical);
  configure->setObjectName("configureSplitter");
  configure->addWidget(config_);
  configure->addWidget(launch_);
  configure->setStretchFactor(0, 3);
  configure->setStretchFactor(1, 1);
  tabs_->addTab(configure, tr("&Configure"));
  tabs_->addTab(timeline_, tr("&Timeline"));
  tabs_->addTab(compare_, tr("C&ompare"));
  tabs_->addTab(sweep_, tr("S&weep"));
  tabs_->addTab(calibration_, tr("Ca&libration"));

  setCentralWidget(tabs_);
  messageBar_ = new MessageBar(tabs_);  // laid over the pages: it never moves them

  runsView_->setObjectName("runsView");
  runsView_->setModel(project_->runs());
  runsView_->setItemDelegate(new ToneDelegate(runsView_));
  runsView_->setSelectionBehavior(QAbstractItemView::SelectRows);
  runsView_->setSelectionMode(QAbstractItemView::SingleSelection);
  runsView_->verticalHeader()->hide();
  runsView_->horizontalHeader()->setStretchLastSection(true);
  connect(runsView_->selectionModel(), &QItemSelectionModel::selectionChanged, this,
          &MainWindow::runsSelectionChanged);
  runsDock_ = new QDockWidget(tr("Runs"), this);
  runsDock_->setObjectName("runsDock");
  runsDock_->setWidget(runsView_);
  addDockWidget(Qt::LeftDockWidgetArea, runsDock_);
  resizeDocks({runsDock_}, {360}, Qt::Horizontal);
  // Columns follow their contents as runs appear (ids, kinds and times are short).
  connect(project_->runs(), &QAbstractItemModel::modelReset, runsView_, &QTableView::resizeColumnsToContents);
  connect(project_->runs(), &QAbstractItemModel::rowsInserted, runsView_,
          &QTableView::resizeColumnsToContents);

  buildMenus();
  loadProgress_ = new QProgressBar;
  loadProgress_->setObjectName("loadProgress");
  loadProgress_->setMaximumWidth(280);
  loadProgress_->setTextVisible(true);
  loadProgress_->hide();
  statusBar()->addPermanentWidget(loadProgress_);
  wireNsysImport();

  // The launch runs what the form holds: its text, its ranks and its first error (Start is disabled then).
  connect(config_, &ConfigPage::configTextChanged, this, [this](const QString& text) {
    const auto& parsed = config_->parsedConfig();
    launch_->setConfiguration(text, parsed ? parsed->parallel.ranks : 0, config_->firstError());
  });
  connect(config_, &ConfigPage::validityChanged, this, [this](bool valid) {
    statusBar()->showMessage(valid ? tr("Configuration valid") : tr("Configuration has errors"));
  });
  launch_->setConfiguration(config_->configText(),
                            config_->parsedConfig() ? config_->parsedConfig()->parallel.ranks : 0,
                            config_->firstError());
  connect(launch_, &LaunchPanel::finished, this, [this](bool ok, const QString& message) {
    if (!ok)
      showMessage(message);
    else
      statusBar()->showMessage(message);
    if (launchedRun_ > 0 && selectRun(launchedRun_) && ok) tabs_->setCurrentIndex(TimelinePage);
  });
  // What a launch stored is shown when it ends (the last run it wrote: a validation shows what it measured);
  // runs other processes write appear in the Runs list as Project polls the file.
  connect(launch_, &LaunchPanel::runAppeared, this,
          [this](qint64 id) { launchedRun_ = std::max(launchedRun_, id); });
  connect(project_, &Project::runCompleted, this,
          [this](qint64 id) { statusBar()->showMessage(tr("Run %1 complete").arg(id)); });
  connect(project_, &Project::errorOccurred, this, [this](const QString& m) { showMessage(m); });
  connect(project_, &Project::opened, this, &MainWindow::projectOpened);
  connect(timeline_, &TimelineWidget::runLoaded, this, [this](bool ok, const QString& message) {
    if (!ok)
      showMessage(message);
    else if (!message.isEmpty())
      showMessage(message, false);  // an incomplete run: a notice, not an error
    timelinePending_ = false;
    finishLoadingIfDone();
  });
  connect(timeline_, &TimelineWidget::loadProgress, this, [this](qint64 done, qint64 total) {
    // Percent, so that a 1.23M-event run fits the bar's int range whatever its size.
    loadProgress_->setRange(0, 100);
    loadProgress_->setValue(total > 0 ? static_cast<int>(100 * done / total) : 0);
  });
  wirePages();
  connect(compare_, &ComparisonPage::errorOccurred, this, [this](const QString& m) { showMessage(m); });
  connect(sweep_, &SweepPage::errorOccurred, this, [this](const QString& m) { showMessage(m); });
  connect(sweep_, &SweepPage::sweepFinished, this, [this](const QString& e) {
    if (!e.isEmpty()) showMessage(e);
  });
  connect(exports_, &ExportActions::failed, this, [this](const QString& m) { showMessage(m); });
  connect(exports_, &ExportActions::exported, this,
          [this](const QString& path) { statusBar()->showMessage(tr("Exported %1").arg(path)); });
  connect(launch_, &LaunchPanel::started, this, [this](const QString& line) {
    launchedRun_ = 0;
    statusBar()->showMessage(tr("Running: %1").arg(line));
  });

  QSettings settings;
  restoreGeometry(settings.value("window/geometry").toByteArray());
  restoreState(settings.value("window/state").toByteArray());
  config_->restoreLayout(settings.value("window/configLayout").toByteArray());
  configure->restoreState(settings.value("window/configureSplitter").toByteArray());
  tabs_->setCurrentIndex(settings.value("window/tab", 0).toInt());
  if (geometry().width() < 400) resize(1400, 860);
}

void MainWindow::showMessage(const QString& text, bool error) {
  messages_ << text;
  messageBar_->showMessage(text, error);
}

QString MainWindow::message() const {
  return messageBar_->text();
}

bool MainWindow::openProject(const QString& path, bool create) {
  // On failure Project emits errorOccurred (shown in the message bar); the project that was open stays open.
  return project_->open(path, create);
}

void MainWindow::projectOpened(const QString& path) {
  // A project in a read-only place is viewable; the title and one line say that runs cannot be stored in it.
  const bool readOnly = project_->isReadOnly();
  setWindowTitle(tr("Parm Studio — %1").arg(QFileInfo(path).fileName()) +
                 (readOnly ? tr(" [read-only]") : ""));
  if (readOnly)
    showMessage(
        tr("%1: read-only (the file, its folder or its file system is not writable): runs are viewable, "
           "new runs cannot be stored here")
            .arg(path),
        false);
  currentRun_ = 0;
  exports_->setRun(path, 0);
  // The latest complete run is what the user most likely wants to see.
  const RunListModel* runs = project_->runs();
  for (int r = runs->rowCount() - 1; r >= 0; --r) {
    const RunListModel::Row* row = runs->row(r);
    if (row && row->complete && row->kind != "calibration" && row->kind != "prediction") {
      selectRun(row->id);
      break;
    }
  }
}

bool MainWindow::selectRun(qint64 runId) {
  if (!project_->isOpen()) {
    showMessage(tr("No project is open: open one with File > Open project"));
    return false;
  }
  const QString db = project_->path();
  const int row = project_->runs()->rowOfRun(runId);
  if (row >= 0 && !selecting_) {
    selecting_ = true;
    runsView_->selectRow(row);
    selecting_ = false;
  }
  QString error;
  const qint64 shown = shownRunOf(runId, &error);
  if (shown == 0) {
    showMessage(error);
    return false;
  }
  currentRun_ = runId;
  setLoadingRun(runId);
  if (isCalibrationRun(runId)) return showCalibration(runId);
  setRunPagesEnabled(true);
  timelinePending_ = true;
  const bool loaded = timeline_->openRun(db, shown, &error);
  if (!loaded) showMessage(error);
  timelinePending_ = loaded && timeline_->isLoading();
  exports_->setRun(db, shown);
  // Every page reads on its own worker: the timeline, the comparison and the sweep load side by side while
  // the window paints and answers; loading ends when the last of them is shown.
  loadPages(runId);
  return loaded;
}

qint64 MainWindow::shownRunOf(qint64 runId, QString* error) {
  try {
    const std::optional<db::RunInfo> info = project_->database()->run(runId);
    if (!info) {
      *error = tr("%1: no run %2").arg(project_->path()).arg(runId);
      return 0;
    }
    const qint64 shown = measured_run_of(*info);  // a validation report shows the run it measured
    std::string config = info->config_json;
    if (config.empty() && shown != runId)
      if (const auto measured = project_->database()->run(shown)) config = measured->config_json;
    showRunConfiguration(runId, config);
    return shown;
  } catch (const std::exception& e) {
    *error = QString::fromUtf8(e.what()).replace(u'\n', u' ');
    return 0;
  }
}

// Configure follows the selected run, unless the user is editing there: then nothing is asked or replaced.
void MainWindow::showRunConfiguration(qint64 runId, const std::string& configJson) {
  const auto doc = nlohmann::ordered_json::parse(configJson, nullptr, false);
  if (!doc.is_object()) return;  // a run without a stored configuration (an import) leaves the form alone
  const QString text = QString::fromStdString(doc.dump(2));
  if (text == config_->configText()) return;
  if (config_->hasUnsavedEdits()) {
    statusBar()->showMessage(
        tr("Configure keeps your unsaved edits (run %1's configuration was not loaded)").arg(runId), 8000);
    return;
  }
  config_->setConfigText(text);
}

void MainWindow::setLoadingRun(qint64 runId) {
  const bool was = loadingRun_ != 0;
  loadingRun_ = runId;
  loadProgress_->setVisible(runId != 0);
  if (runId != 0) {
    loadProgress_->setRange(0, 0);  // busy until the first progress report
    loadProgress_->setFormat(tr("Loading run %1: %p%").arg(runId));
  }
  if (was != (runId != 0)) emit loadingChanged(runId != 0);
}

void MainWindow::runsSelectionChanged() {
  if (selecting_) return;
  const QModelIndexList rows = runsView_->selectionModel()->selectedRows();
  if (rows.isEmpty()) return;
  const qint64 id = rows.front().data(RunListModel::RunIdRole).toLongLong();
  if (id == currentRun_) return;
  selecting_ = true;
  selectRun(id);
  selecting_ = false;
}

void MainWindow::afterFirstPaint(std::function<void()> then) {
  if (painted_)
    QTimer::singleShot(0, this, std::move(then));
  else
    afterPaint_.push_back(std::move(then));
}

bool MainWindow::event(QEvent* event) {
  const bool handled = QMainWindow::event(event);
  if (event->type() == QEvent::Paint && !painted_) {
    painted_ = true;
    for (auto& then : std::exchange(afterPaint_, {})) QTimer::singleShot(0, this, std::move(then));
  }
  return handled;
}

void MainWindow::closeEvent(QCloseEvent* event) {
  if (launch_->isRunning()) launch_->cancel();
  QSettings settings;
  settings.setValue("window/geometry", saveGeometry());
  settings.setValue("window/state", saveState());
  settings.setValue("window/configLayout", config_->saveLayout());
  if (auto* split = findChild<QSplitter*>("configureSplitter"))
    settings.setValue("window/configureSplitter", split->saveState());
  settings.setValue("window/tab", tabs_->currentIndex());
  event->accept();
}

void MainWindow::newProject() {
  const QString path =
      QFileDialog::getSaveFileName(this, tr("New project"), {}, tr("Parm project (*.sqlite)"));
  if (!path.isEmpty()) openProject(path, true);
}

void MainWindow::openProjectDialog() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Open project"), {},
                                                    tr("Parm project (*.sqlite *.db);;All files (*)"));
  if (!path.isEmpty()) openProject(path);
}

void MainWindow::wireNsysImport() {
  nsysImport_ = new NsysImport(project_, launch_->process()->executable(), this);
  importProgress_ = new QProgressBar;
  importProgress_->setObjectName("importProgress");
  importProgress_->setMaximumWidth(200);
  importProgress_->setRange(0, 0);  // parm import-nsys reports no steps: busy until it ends
  importProgress_->hide();
  statusBar()->addPermanentWidget(importProgress_);
  connect(nsysImport_, &NsysImport::started, this, [this](const QString& file) {
    importProgress_->show();
    statusBar()->showMessage(tr("Importing %1 ...").arg(QFileInfo(file).fileName()));
  });
  connect(nsysImport_, &NsysImport::finished, this, [this](bool ok, const QString& message, qint64 run) {
    importProgress_->hide();
    if (!ok) {
      statusBar()->clearMessage();
      showMessage(message);
      return;
    }
    statusBar()->showMessage(message, 8000);
    if (selectRun(run)) tabs_->setCurrentIndex(TimelinePage);
  });
}

bool MainWindow::importNsysExport(const QString& exportFile) {
  return nsysImport_->start(exportFile);
}

void MainWindow::importNsysDialog() {
  const QString path =
      QFileDialog::getOpenFileName(this, tr("Import Nsight Systems export"), {},
                                   tr("Nsight Systems SQLite export (*.sqlite);;All files (*)"));
  if (!path.isEmpty()) importNsysExport(path);
}

void MainWindow::openConfig() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Open configuration"), {}, tr("JSON (*.json)"));
  if (path.isEmpty()) return;
  openConfigFile(path);
}

void MainWindow::openConfigFile(const QString& path) {
  if (const QString error = config_->loadConfigFile(path); !error.isEmpty()) showMessage(error);
}

void MainWindow::saveConfig() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Save configuration"), {}, tr("JSON (*.json)"));
  if (path.isEmpty()) return;
  const QString error = ExportActions::writeAtomically(path, config_->configText().toUtf8());
  if (!error.isEmpty())
    showMessage(error);
  else
    config_->markSaved();
}

void MainWindow::exportTimelineImage() {
  if (currentRun_ == 0) {
    showMessage(tr("Select a run first"));
    return;
  }
  const QString path = QFileDialog::getSaveFileName(this, tr("Export timeline image"), {},
                                                    tr("PNG image (*.png);;SVG drawing (*.svg)"));
  if (path.isEmpty()) return;
  QString error;
  if (!timeline_->exportImage(path, &error))
    showMessage(error);
  else
    statusBar()->showMessage(tr("Exported %1").arg(path));
}

}  // namespace parm::app
