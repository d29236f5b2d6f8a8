// The sweep page: predicted vs measured layer ms of every (configuration, schedule) of a validation run as a
// scatter (y = x reference, one colour per schedule, hover tooltip), and the chosen schedule over two grid
// parameters as a heat map, from a sweep (`parm sweep --out` CSV, loaded or run here asynchronously) or, when
// no sweep is loaded, from the validation run's predictions. Parameters other than the two axes are fixed by
// their combos or, left on "all", aggregated (each cell shows the most frequent choice and n/m). With one
// configuration (a heat map of it would be one cell) the tab shows per-schedule measured vs predicted bars
// instead. The table shows the sweep, else the validation run, and has its headers even without rows.
#pragma once

#include <QMap>
#include <QString>
#include <QWidget>
#include <memory>

class QAbstractItemModel;
class QCheckBox;
class QChart;
class QChartView;
class QComboBox;
class QFormLayout;
class QLabel;
class QProcess;
class QPushButton;
class QSortFilterProxyModel;
class QStackedWidget;
class QTableView;
class QTemporaryDir;

namespace parm::app {

class HeatMapWidget;
class SweepModel;

class SweepPage : public QWidget {
  Q_OBJECT

 public:
  explicit SweepPage(QWidget* parent = nullptr);
  ~SweepPage() override;

  // The scatter of a validation run (`runId`, or with a run of another kind the latest validation run of the
  // file). Returns false and emits errorOccurred (one line) when there is none or it cannot be read.
  bool setRun(const QString& dbPath, qint64 runId);
  // A saved `parm sweep --out` CSV for the heat map; returns the one-line error, empty on success.
  QString loadSweepCsv(const QString& path);
  // Runs `parm sweep --grid GRID --calibration CAL --out TMP.csv --json` in the background; sweepFinished
  // reports the outcome. False (and errorOccurred) when a sweep is already running or parm is not found.
  bool runSweep(const QString& gridPath, const QString& calibrationPath, bool force = false);
  bool isSweepRunning() const;

  void setParmExecutable(const QString& path) { parmExe_ = path; }
  QString parmExecutable() const { return parmExe_; }

  // Heat map axes and the value each other parameter is fixed at (absent = aggregated).
  void setHeatAxes(const QString& xParam, const QString& yParam);
  void setFixedParams(const QMap<QString, double>& fixed);

  SweepModel* validationModel() const { return validation_; }
  SweepModel* sweepModel() const { return sweep_; }
  HeatMapWidget* heatMapWidget() const { return heat_; }
  QChart* scatterChart() const { return chart_; }
  // The "Chosen schedule" tab: true when it shows the per-schedule bars (one configuration).
  bool showsPerScheduleView() const;
  QChart* perScheduleChart() const { return barsChart_; }
  QString heatNote() const;
  // What the table shows (a proxy of the sweep's model, else of the validation run's).
  QAbstractItemModel* tableModel() const;

 Q_SIGNALS:
  void errorOccurred(const QString& message);
  void sweepFinished(const QString& error);  // empty on success

 protected:
  void changeEvent(QEvent* event) override;  // follows a palette change (dark / light chart theme)

 private:
  void applyChartTheme();
  SweepModel* heatSource() const;
  void rebuildScatter();
  void rebuildHeatControls();
  void updateHeatMap();
  void updateTableSource();
  void sweepDone();

  QString parmExe_;
  SweepModel* validation_;
  SweepModel* sweep_;
  QChart* chart_;
  QChartView* chartView_;
  HeatMapWidget* heat_;
  QStackedWidget* heatStack_;
  QChart* barsChart_;
  QLabel* heatNote_;
  QSortFilterProxyModel* tableProxy_;
  QComboBox* xCombo_;
  QComboBox* yCombo_;
  QFormLayout* fixedForm_;
  QMap<QString, QComboBox*> fixedCombos_;
  QLabel* status_;
  QTableView* table_;
  QPushButton* loadButton_;
  QPushButton* runButton_;
  QCheckBox* force_;
  QProcess* process_ = nullptr;
  std::unique_ptr<QTemporaryDir> tmp_;
};

}  // namespace parm::app
