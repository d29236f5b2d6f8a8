// Configuration page: the layer/layout JSON, validated live by the engine as the user types, with the derived
// sizes (capacities, dispatched tensor sizes) beside it.
#pragma once

#include <QWidget>

class QComboBox;
class QLabel;
class QPlainTextEdit;
class QTableView;
class QTimer;

namespace parm::app {

class ConfigIssuesModel;

class ConfigPage : public QWidget {
  Q_OBJECT
 public:
  explicit ConfigPage(QWidget* parent = nullptr);

  QString configText() const;
  void setConfigText(const QString& text);
  ConfigIssuesModel* issuesModel() const { return issues_; }

 signals:
  void validityChanged(bool valid);

 private:
  void loadPreset(const QString& name);
  void revalidate();

  QComboBox* presets_;
  QPlainTextEdit* editor_;
  QTableView* issuesView_;
  QLabel* sizes_;
  QTimer* debounce_;
  ConfigIssuesModel* issues_;
};

}  // namespace parm::app
