#pragma once

#include <QMainWindow>

namespace parm::app {

class ConfigPage;

class MainWindow : public QMainWindow {
  Q_OBJECT
 public:
  explicit MainWindow(QWidget* parent = nullptr);

 protected:
  void closeEvent(QCloseEvent* event) override;

 private:
  void openConfig();
  void saveConfig();

  ConfigPage* config_;
};

}  // namespace parm::app
