// The main window's menu bar (File, View, Help), apart from the window's other wiring in main_window.cpp.
#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QDesktopServices>
#include <QDir>
#include <QDockWidget>
#include <QFileInfo>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QUrl>
#include <utility>

#include "app/app_theme.h"
#include "app/compare/export_actions.h"
#include "app/launch/project.h"
#include "app/launch/recent_projects.h"
#include "app/main_window.h"
#include "app/shortcut_sheet.h"
#include "app/timeline/timeline_widget.h"

namespace parm::app {

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
  file->addAction(tr("&Import Nsight Systems export..."), this, &MainWindow::importNsysDialog)
      ->setObjectName("importNsysAction");
  file->addAction(tr("Compare &two runs..."), QKeySequence(Qt::CTRL | Qt::Key_D), this,
                  &MainWindow::openRunDiff)
      ->setObjectName("runDiffAction");
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
  // The timeline owns Ctrl+[ and Ctrl+] (inside it); the menu names them without a second, ambiguous binding.
  view->addAction(tr("&Collapse all ranks\tCtrl+["), timeline_, &TimelineWidget::collapseAllRanks);
  view->addAction(tr("&Expand all rows\tCtrl+]"), timeline_, &TimelineWidget::expandAllRows);
  view->addAction(tr("&Refresh runs"), QKeySequence::Refresh, project_, &Project::refresh);
  view->addSeparator();
  // A closed dock comes back from here (not only from the menu bar's context menu).
  QAction* runs = runsDock_->toggleViewAction();
  runs->setObjectName("runsDockAction");
  runs->setText(tr("&Runs list"));
  runs->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_R));
  view->addAction(runs);
  auto* theme = view->addMenu(tr("&Theme"));
  theme->setObjectName("themeMenu");
  auto* themes = new QActionGroup(theme);
  for (const auto& [t, label] :
       {std::pair{Theme::System, tr("&System")}, std::pair{Theme::Light, tr("&Light")},
        std::pair{Theme::Dark, tr("&Dark")}}) {
    QAction* a = theme->addAction(label);
    a->setObjectName("theme-" + themeName(t));
    a->setCheckable(true);
    a->setChecked(currentTheme() == t);
    themes->addAction(a);
    connect(a, &QAction::triggered, this, [t] { applyTheme(t); });
  }

  auto* help = menuBar()->addMenu(tr("&Help"));
  QAction* keys = help->addAction(tr("&Keyboard shortcuts"), this, &MainWindow::showShortcutSheet);
  keys->setObjectName("shortcutsAction");
  keys->setShortcuts({QKeySequence(Qt::Key_F1), QKeySequence(Qt::Key_Question)});
  keys->setShortcutContext(Qt::WindowShortcut);
  help->addAction(tr("&Documentation"), this, [this] {
    const QString readme = documentationPath();
    if (readme.isEmpty() || !QDesktopServices::openUrl(QUrl::fromLocalFile(readme)))
      showMessage(tr("The README was not found next to parm-studio: see the project's README.md"), false);
  });
  help->addAction(tr("&About Parm Studio"), this, [this] {
    QMessageBox::about(this, tr("About Parm Studio"),
                       tr("<b>Parm Studio</b> %1<p>Measured versus predicted MoE communication schedules "
                          "(B_DS, B_DS2, S1, S1F, S2, S2F): which schedule, why, by how much.</p>"
                          "<p>Runs are made by <code>parm</code>; this window configures, launches and "
                          "shows them.</p>")
                           .arg(QApplication::applicationVersion()));
  });
}

void MainWindow::showShortcutSheet() {
  // Rebuilt each time: it lists the menus' shortcuts as they are now.
  auto* sheet = new ShortcutSheet(menuBar(), this);
  sheet->setAttribute(Qt::WA_DeleteOnClose);
  sheet->show();
}

// The README of the source tree parm-studio was built from, or one installed next to it.
QString MainWindow::documentationPath() {
  const QDir dir(QApplication::applicationDirPath());
  for (const QString& candidate : {dir.filePath("README.md"), dir.filePath("../README.md"),
                                   dir.filePath("../../README.md"), QStringLiteral(PARM_SOURCE_README)})
    if (QFileInfo(candidate).isFile()) return QDir::cleanPath(QFileInfo(candidate).absoluteFilePath());
  return {};
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

}  // namespace parm::app
