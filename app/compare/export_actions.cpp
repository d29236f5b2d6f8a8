#include "app/compare/export_actions.h"

#include <QAction>
#include <QFileDialog>
#include <QFileInfo>
#include <QSaveFile>
#include <QWidget>
#include <exception>
#include <optional>
#include <sstream>

#include "db/database.h"
#include "db/exporters.h"
#include "engine/model/calibration.h"
#include "engine/model/run_comparison.h"

namespace parm::app {
namespace {

QString oneLine(QString s) {
  return s.replace(QLatin1Char('\n'), QLatin1Char(' ')).trimmed();
}

using Writer = void (*)(const db::Database&, std::int64_t, std::ostream&);

QString exportWith(Writer write, const QString& dbPath, qint64 runId, const QString& outPath) {
  std::ostringstream out;
  try {
    const auto db = db::Database::open(dbPath.toStdString(), false);
    if (!db.run(runId)) return QStringLiteral("%1: no run %2").arg(dbPath).arg(runId);
    write(db, runId, out);
  } catch (const std::exception& e) {
    return oneLine(QString::fromStdString(e.what()));
  }
  const std::string text = out.str();
  return ExportActions::writeAtomically(outPath, QByteArray(text.data(), qsizetype(text.size())));
}

}  // namespace

QString ExportActions::writeAtomically(const QString& path, const QByteArray& data) {
  QSaveFile f(path);
  if (!f.open(QIODevice::WriteOnly))
    return QStringLiteral("%1: cannot write (%2)").arg(path, f.errorString());
  if (f.write(data) != data.size() || !f.commit())
    return QStringLiteral("%1: cannot write (%2)").arg(path, f.errorString());
  return {};
}

QString ExportActions::exportPerfetto(const QString& dbPath, qint64 runId, const QString& outPath) {
  return exportWith(&db::export_perfetto, dbPath, runId, outPath);
}

QString ExportActions::exportCsv(const QString& dbPath, qint64 runId, const QString& outPath) {
  return exportWith(&db::export_csv, dbPath, runId, outPath);
}

QByteArray ExportActions::recommendationJson(const QString& dbPath, qint64 runId,
                                             const QString& calibrationPath, QString* error) {
  try {
    const auto db = db::Database::open(dbPath.toStdString(), false);
    std::optional<Calibration> calib;
    if (!calibrationPath.isEmpty()) calib = load_calibration_file(calibrationPath.toStdString());
    const std::string text = recommendation_for_run(db, runId, calib ? &*calib : nullptr).dump(2) + "\n";
    if (error) error->clear();
    return QByteArray(text.data(), qsizetype(text.size()));
  } catch (const std::exception& e) {
    if (error) *error = oneLine(QString::fromStdString(e.what()));
    return {};
  }
}

QString ExportActions::exportRecommendation(const QString& dbPath, qint64 runId,
                                            const QString& calibrationPath, const QString& outPath) {
  QString error;
  const QByteArray json = recommendationJson(dbPath, runId, calibrationPath, &error);
  return error.isEmpty() ? writeAtomically(outPath, json) : error;
}

ExportActions::ExportActions(QWidget* dialogParent)
    : QObject(dialogParent),
      dialogParent_(dialogParent),
      perfetto_(new QAction(tr("Export Perfetto trace..."), this)),
      csv_(new QAction(tr("Export events CSV..."), this)),
      recommendation_(new QAction(tr("Export recommendation JSON..."), this)) {
  perfetto_->setToolTip(tr("Chrome trace JSON of the run, for ui.perfetto.dev"));
  connect(perfetto_, &QAction::triggered, this, [this] {
    runExport(tr("Export Perfetto trace"), tr("Trace JSON (*.json)"), QStringLiteral(".perfetto.json"),
              [](const QString& db, qint64 run, const QString&, const QString& out) {
                return exportPerfetto(db, run, out);
              });
  });
  connect(csv_, &QAction::triggered, this, [this] {
    runExport(tr("Export events CSV"), tr("CSV (*.csv)"), QStringLiteral(".csv"),
              [](const QString& db, qint64 run, const QString&, const QString& out) {
                return exportCsv(db, run, out);
              });
  });
  connect(recommendation_, &QAction::triggered, this, [this] {
    runExport(tr("Export recommendation"), tr("JSON (*.json)"), QStringLiteral(".recommendation.json"),
              &exportRecommendation);
  });
  setRun({}, 0);
}

void ExportActions::setRun(const QString& dbPath, qint64 runId) {
  dbPath_ = dbPath;
  runId_ = runId;
  for (QAction* a : {perfetto_, csv_, recommendation_}) a->setEnabled(runId > 0 && !dbPath.isEmpty());
}

void ExportActions::setCalibrationPath(const QString& path) {
  calibrationPath_ = path;
}

void ExportActions::runExport(const QString& title, const QString& filter, const QString& suffix,
                              QString (*doExport)(const QString&, qint64, const QString&, const QString&)) {
  const QString suggested = QFileInfo(dbPath_).dir().filePath(QFileInfo(dbPath_).completeBaseName() +
                                                              QStringLiteral("-run%1").arg(runId_) + suffix);
  const QString out = QFileDialog::getSaveFileName(dialogParent_, title, suggested, filter);
  if (out.isEmpty()) return;
  const QString error = doExport(dbPath_, runId_, calibrationPath_, out);
  if (error.isEmpty())
    emit exported(out);
  else
    emit failed(error);
}

}  // namespace parm::app
