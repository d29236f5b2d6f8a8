// "Compare two runs": two run pickers (before, after) over one project, the per-schedule table and the per-op
// table of the selected schedule (RunDiffModel), each with the spread and the noise verdict of
// engine/model/run_diff.h. The runs are read and compared on a worker (LatestJob): only the newest pair is
// shown and the page stays usable meanwhile. Runs of different layers, a missing run or an unreadable file
// are one line (errorOccurred and the page's status line), never a crash.
#pragma once

#include <QString>
#include <QWidget>

class QComboBox;
class QLabel;
class QSortFilterProxyModel;
class QTableView;

namespace parm::app {

class LatestJob;
class RunDiffModel;
struct RunDiffResult;

class RunDiffPage : public QWidget {
  Q_OBJECT

 public:
  explicit RunDiffPage(QWidget* parent = nullptr);

  // Compares run `before` with run `after` of the project file, on the worker; the pickers then list the
  // project's runs. Returns false (and emits errorOccurred) at once for an empty or missing path or the same
  // run twice; a file or run that turns out unreadable is reported by errorOccurred when the worker is done.
  bool setRuns(const QString& dbPath, qint64 before, qint64 after);
  QString dbPath() const { return dbPath_; }
  qint64 beforeRun() const { return before_; }
  qint64 afterRun() const { return after_; }
  QString statusText() const;

  RunDiffModel* scheduleModel() const { return schedules_; }
  RunDiffModel* opModel() const { return ops_; }
  QTableView* schedulesView() const { return schedulesView_; }
  QTableView* opsView() const { return opsView_; }
  LatestJob* loadJob() const { return job_; }

 Q_SIGNALS:
  void errorOccurred(const QString& message);
  void diffLoaded();  // the newest pair's tables are filled

 private:
  void fail(const QString& message);
  void showResult(RunDiffResult result);
  void pickerChanged();
  void filterOpsBySelectedSchedule();

  QString dbPath_;
  qint64 before_ = 0, after_ = 0;
  RunDiffModel* schedules_;
  RunDiffModel* ops_;
  LatestJob* job_;
  QSortFilterProxyModel* opsProxy_;
  QComboBox* beforePicker_;
  QComboBox* afterPicker_;
  QLabel* status_;
  QTableView* schedulesView_;
  QTableView* opsView_;
};

}  // namespace parm::app
