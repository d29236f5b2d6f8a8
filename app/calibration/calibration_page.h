// The page a calibration run opens on (instead of the timeline, which a calibration has none of): the fits
// (left), the selected fit's samples and fitted line (right), its nccl-tests table and the environment the
// calibration recorded (below). The run is read on a LatestJob worker; only the newest selection is shown.
#pragma once

#include <QString>
#include <QWidget>

class QChart;
class QChartView;
class QLabel;
class QTableView;

namespace parm::app {

class CalibrationFitsModel;
class LatestJob;
class NcclTableModel;
struct CalibrationRunData;

class CalibrationPage : public QWidget {
  Q_OBJECT

 public:
  explicit CalibrationPage(QWidget* parent = nullptr);
  ~CalibrationPage() override;

  // Starts reading calibration run `runId` of `dbPath` off the GUI thread; loadFinished reports the outcome.
  // Returns false (and emits errorOccurred, one line) at once when the path is not a project file; a run
  // that cannot be read (missing, not a calibration, corrupt) emits errorOccurred when the read ends.
  bool setRun(const QString& dbPath, qint64 runId);
  bool isLoading() const;
  qint64 runId() const { return runId_; }

  // Shows fit `row` of the fits table (plot, nccl-tests table); false outside the rows.
  bool selectFit(int row);
  int selectedFit() const { return selected_; }

  CalibrationFitsModel* fitsModel() const { return fits_; }
  NcclTableModel* ncclModel() const { return nccl_; }
  QChart* fitChart() const { return chart_; }
  QString environmentText() const;
  QString summaryText() const;

 Q_SIGNALS:
  void errorOccurred(const QString& message);
  void loadFinished(const QString& error);  // empty on success

 protected:
  void changeEvent(QEvent* event) override;  // follows a palette change (dark / light chart theme)

 private:
  void display(const CalibrationRunData& loaded);
  void applyChartTheme();

  CalibrationFitsModel* fits_;
  NcclTableModel* nccl_;
  LatestJob* job_;
  QTableView* fitsView_;
  QTableView* ncclView_;
  QChart* chart_;
  QChartView* chartView_;
  QLabel* summary_;
  QLabel* ncclCaption_;
  QLabel* environment_;
  qint64 runId_ = 0;
  int selected_ = -1;
};

}  // namespace parm::app
