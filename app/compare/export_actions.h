// Exports of a stored run for the main window: Perfetto / Chrome trace JSON and CSV (db/exporters.h, the code
// behind `parm export`) and the recommendation JSON (`parm recommend --json`'s shape: from the validation
// report that covers the run, else computed with a calibration file). Files are written atomically
// (QSaveFile): a failed export leaves any previous file untouched. Every error is one line.
#pragma once

#include <QByteArray>
#include <QObject>
#include <QString>

class QAction;
class QWidget;

namespace parm::app {

class ExportActions : public QObject {
  Q_OBJECT

 public:
  // Each returns the one-line error, empty on success.
  static QString writeAtomically(const QString& path, const QByteArray& data);
  static QString exportPerfetto(const QString& dbPath, qint64 runId, const QString& outPath);
  static QString exportCsv(const QString& dbPath, qint64 runId, const QString& outPath);
  // `calibrationPath` may be empty when a validation report covers the run.
  static QString exportRecommendation(const QString& dbPath, qint64 runId, const QString& calibrationPath,
                                      const QString& outPath);
  static QByteArray recommendationJson(const QString& dbPath, qint64 runId, const QString& calibrationPath,
                                       QString* error);

  // Menu / toolbar actions that ask for a file name (QFileDialog on `dialogParent`) and export the current
  // run.
  explicit ExportActions(QWidget* dialogParent);
  void setRun(const QString& dbPath, qint64 runId);  // runId 0: actions disabled
  void setCalibrationPath(const QString& path);
  QAction* perfettoAction() const { return perfetto_; }
  QAction* csvAction() const { return csv_; }
  QAction* recommendationAction() const { return recommendation_; }

 Q_SIGNALS:
  void exported(const QString& path);
  void failed(const QString& message);

 private:
  void runExport(const QString& title, const QString& filter, const QString& suffix,
                 QString (*doExport)(const QString&, qint64, const QString&, const QString&));

  QWidget* dialogParent_;
  QString dbPath_, calibrationPath_;
  qint64 runId_ = 0;
  QAction* perfetto_;
  QAction* csv_;
  QAction* recommendation_;
};

}  // namespace parm::app
