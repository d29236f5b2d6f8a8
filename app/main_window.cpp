#include "app/main_window.h"

#include <QCloseEvent>
#include <QFile>
#include <QFileDialog>
#include <QMenuBar>
#include <QMessageBox>
#include <QSaveFile>
#include <QSettings>
#include <QStatusBar>

#include "app/config_page.h"

namespace parm::app {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent), config_(new ConfigPage(this)) {
  setWindowTitle(tr("Parm Studio"));
  setCentralWidget(config_);
  auto* file = menuBar()->addMenu(tr("&File"));
  file->addAction(tr("&Open configuration..."), QKeySequence::Open, this, &MainWindow::openConfig);
  file->addAction(tr("&Save configuration as..."), QKeySequence::SaveAs, this, &MainWindow::saveConfig);
  file->addSeparator();
  file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
  connect(config_, &ConfigPage::validityChanged, this, [this](bool valid) {
    statusBar()->showMessage(valid ? tr("Configuration valid") : tr("Configuration has errors"));
  });
  QSettings settings;
  restoreGeometry(settings.value("window/geometry").toByteArray());
  restoreState(settings.value("window/state").toByteArray());
  if (geometry().width() < 400) resize(1200, 760);
}

void MainWindow::closeEvent(QCloseEvent* event) {
  QSettings settings;
  settings.setValue("window/geometry", saveGeometry());
  settings.setValue("window/state", saveState());
  event->accept();
}

void MainWindow::openConfig() {
  const QString path = QFileDialog::getOpenFileName(this, tr("Open configuration"), {}, tr("JSON (*.json)"));
  if (path.isEmpty()) return;
  QFile f(path);
  if (!f.open(QIODevice::ReadOnly)) {
    QMessageBox::warning(this, tr("Open configuration"), tr("Cannot read %1: %2").arg(path, f.errorString()));
    return;
  }
  config_->setConfigText(QString::fromUtf8(f.readAll()));
}

void MainWindow::saveConfig() {
  const QString path = QFileDialog::getSaveFileName(this, tr("Save configuration"), {}, tr("JSON (*.json)"));
  if (path.isEmpty()) return;
  QSaveFile f(path);  // atomic: a failed save keeps the old file
  if (!f.open(QIODevice::WriteOnly) || f.write(config_->configText().toUtf8()) < 0 || !f.commit())
    QMessageBox::warning(this, tr("Save configuration"),
                         tr("Cannot write %1: %2").arg(path, f.errorString()));
}

}  // namespace parm::app
