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

#include "app/compare/comparison_page.h"
#include "app/compare/export_actions.h"
#include "app/compare/sweep_page.h"
#include "app/config_page.h"
#include "app/launch/launch_panel.h"
#include "app/launch/parm_process.h"
#include "app/launch/project.h"
#include "app/launch/recent_projects.h"
#include "app/models/run_list_model.h"
#include "app/timeline/timeline_widget.h"
#include "app/tone_delegate.h"

namespace parm::app {

MainWindow::MainWindow(const QString& parmExecutable, QWidget* parent)
    : QMainWindow(parent),
      project_(new Project(this)),
      config_(new ConfigPage),
      launch_(new LaunchPanel(parmExecutable)),
      timeline_(new TimelineWidget),
      compare_(new ComparisonPage),
      sweep_(new SweepPage),
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

  auto* central = new QWidget;
  auto* layout = new QVBoxLayout(central);
  layout->setContentsMargins(0, 0, 0, 0);
  layout->setSpacing(0);
  layout->addWidget(buildMessageBar());
  layout->addWidget(tabs_, 1);
  setCentralWidget(central);

  runsView_->setObjectName("runsView");
  runsView_->setModel(project_->runs());
  runsView_->setItemDelegate(new ToneDelegate(runsView_));
  runsView_->setSelectionBehavior(QAbstractItemView::SelectRows);
  runsView_->setSelectionMode(QAbstractItemView::SingleSelection);
  runsView_->verticalHeader()->hide();
  runsView_->horizontalHeader()->setStretchLastSection(true);
  connect(runsView_->selectionModel(), &QItemSelectionModel::selectionChanged, this,
          &MainWindow::runsSelectionChanged);
  auto* dock = new QDockWidget(tr("Runs"), this);
  dock->setObjectName("runsDock");
  dock->setWidget(runsView_);
  addDockWidget(Qt::LeftDockWidgetArea, dock);
  resizeDocks({dock}, {360}, Qt::Horizontal);
  // Columns follow their contents as runs appear (ids, kinds and times are short).
  connect(project_->runs(), &QAbstractItemModel::modelReset, runsView_, &QTableView::resizeColumnsToContents);
  connect(project_->runs(), &QAbstractItemModel::rowsInserted, runsView_,
          &QTableView::resizeColumnsToContents);

  buildMenus();

  connect(config_, &ConfigPage::configTextChanged, launch_, &LaunchPanel::setConfigText);
  connect(config_, &ConfigPage::validityChanged, this, [this](bool valid) {
    statusBar()->showMessage(valid ? tr("Configuration valid") : tr("Configuration has errors"));
  });
  launch_->setConfigText(config_->configText());
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
  });
  connect(timeline_, &TimelineWidget::rangeSelected, compare_, &ComparisonPage::setTimeRange);
  connect(timeline_, &TimelineWidget::rangeCleared, compare_, &ComparisonPage::clearTimeRange);
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

QWidget* MainWindow::buildMessageBar() {
  messageBar_ = new QFrame;
  messageBar_->setObjectName("messageBar");
  messageBar_->setAutoFillBackground(true);
  auto* layout = new QHBoxLayout(messageBar_);
  layout->setContentsMargins(8, 4, 8, 4);
  messageLabel_ = new QLabel;
  messageLabel_->setWordWrap(true);
  messageLabel_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  auto* dismiss = new QPushButton(tr("Dismiss"));
  connect(dismiss, &QPushButton::clicked, this, [this] {
    messageLabel_->clear();
    messageBar_->hide();
  });
  layout->addWidget(messageLabel_, 1);
  layout->addWidget(dismiss);
  messageBar_->hide();
  return messageBar_;
}

void MainWindow::showMessage(const QString& text, bool error) {
  messages_ << text;
  messageLabel_->setText(text);
  QPalette palette = messageBar_->palette();
  palette.setColor(QPalette::Window, error ? QColor(0xf8, 0xd7, 0xda) : QColor(0xff, 0xf3, 0xcd));
  palette.setColor(QPalette::WindowText, QColor(0x33, 0x1a, 0x1a));
  messageBar_->setPalette(palette);
  messageBar_->show();
}

QString MainWindow::message() const {
  return messageBar_->isHidden() ? QString() : messageLabel_->text();
}

void MainWindow::buildMenus() {
  auto* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&New project..."), QKeySequence::New, this, &MainWindow::newProject);
  file->addAction(tr("Open &project..."), QKeySequence::Open, this, &MainWindow::openProjectDialog);
  recentMenu_ = file->addMenu(tr("&Recent projects"));
  connect(recentMenu_, &QMenu::aboutToShow, this, &MainWindow::fillRecentMenu);
  file->addSeparator();
  file->addAction(tr("Open &configuration..."), this, &MainWindow::openConfig);
  file->addAction(tr("&Save configuration as..."), QKeySequence::SaveAs, this, &MainWindow::saveConfig);
  file->addSeparator();
  auto* exportMenu = file->addMenu(tr("&Export"));
  exportMenu->addAction(exports_->perfettoAction());
  exportMenu->addAction(exports_->csvAction());
  exportMenu->addAction(exports_->recommendationAction());
  exportMenu->addAction(tr("Timeline &image (PNG/SVG)..."), this, &MainWindow::exportTimelineImage);
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

  auto* view = menuBar()->addMenu(tr("&View"));
  view->addAction(tr("&Fit timeline"), QKeySequence(Qt::Key_F), timeline_, &TimelineWidget::fitToView);
  // The View toggles mirror the timeline's toolbar both ways.
  auto* sideBySide = view->addAction(tr("&Side by side"));
  sideBySide->setObjectName("sideBySideAction");
  sideBySide->setCheckable(true);
  sideBySide->setChecked(timeline_->sideBySide());
  connect(sideBySide, &QAction::toggled, timeline_, &TimelineWidget::setSideBySide);
  connect(timeline_, &TimelineWidget::sideBySideChanged, sideBySide, &QAction::setChecked);
  auto* flows = view->addAction(tr("Flow &arrows"));
  flows->setObjectName("flowsAction");
  flows->setCheckable(true);
  flows->setChecked(timeline_->flowsVisible());
  connect(flows, &QAction::toggled, timeline_, &TimelineWidget::setFlowsVisible);
  connect(timeline_, &TimelineWidget::flowsVisibleChanged, flows, &QAction::setChecked);
  view->addAction(tr("&Refresh runs"), QKeySequence::Refresh, project_, &Project::refresh);
}

void MainWindow::fillRecentMenu() {
  recentMenu_->clear();
  const QStringList recent = RecentProjects::list();
  for (const QString& path : recent)
    recentMenu_->addAction(QFileInfo(path).fileName() + "  —  " + path, this,
                           [this, path] { openProject(path); });
  if (recent.isEmpty())
    recentMenu_->addAction(tr("(none)"))->setEnabled(false);
  else {
    recentMenu_->addSeparator();
    recentMenu_->addAction(tr("Clear list"), this, [] { RecentProjects::clear(); });
  }
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
  currentRun_ = runId;
  // The comparison resolves a validation report to the run it measured; the timeline shows that run.
  const bool compared = compare_->setRun(db, runId);
  const qint64 shown = compared && compare_->runId() != 0 ? compare_->runId() : runId;
  QString error;
  const bool loaded = timeline_->openRun(db, shown, &error);
  if (!loaded) showMessage(error);
  // The sweep page shows a validation run (this one or the file's latest); a file without one has no scatter.
  const RunListModel* runs = project_->runs();
  for (int r = 0; r < runs->rowCount(); ++r)
    if (runs->row(r)->kind == "validation") {
      sweep_->setRun(db, runId);
      break;
    }
  exports_->setRun(db, shown);
  return loaded;
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

QString MainWindow::saveScreenshots(const QString& dir) {
  if (!QDir().mkpath(dir)) return tr("Cannot create %1").arg(dir);
  const int before = tabs_->currentIndex();
  const char* names[] = {"configure", "timeline", "comparison", "sweep"};
  QString error;
  for (int page = 0; page < tabs_->count() && error.isEmpty(); ++page) {
    tabs_->setCurrentIndex(page);
    QApplication::processEvents();
    if (page == TimelinePage) {
      timeline_->fitToView();  // the window may have been resized since the run was loaded
      QApplication::processEvents();
    }
    // The comparison and the recommendation are computed on workers: grab the page once both are shown
    // (30 s at most each).
    if (page == ComparePage && compare_->loading()) {
      QEventLoop loop;
      connect(compare_, &ComparisonPage::loaded, &loop, &QEventLoop::quit);
      QTimer::singleShot(30000, &loop, &QEventLoop::quit);
      loop.exec();
    }
    if (page == ComparePage && compare_->recommendationPending()) {
      QEventLoop loop;
      connect(compare_, &ComparisonPage::recommendationChanged, &loop, &QEventLoop::quit);
      QTimer::singleShot(30000, &loop, &QEventLoop::quit);
      loop.exec();
    }
    const QString path = QDir(dir).filePath(QString::fromLatin1(names[page]) + ".png");
    if (!grab().save(path)) error = tr("Cannot write %1").arg(path);
  }
  tabs_->setCurrentIndex(before);
  return error;
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
  if (!error.isEmpty()) showMessage(error);
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
