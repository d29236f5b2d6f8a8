#include "app/calibration/calibration_load.h"

#include <exception>
#include <string>

#include "db/database.h"
#include "engine/core/json_input.h"

namespace parm::app {
namespace {

// The calibrations table stores seconds and seconds per unit; the Calibration's fits are in ms.
Calibration fromRows(const std::vector<db::CalibrationRow>& rows) {
  Calibration c;
  for (const db::CalibrationRow& r : rows) {
    CalibrationFit f;
    f.op = r.op;
    f.communicator = r.communicator;
    f.fit = {r.alpha_s * 1e3, r.beta_s_per_byte * 1e3, r.r2, int(r.samples)};
    c.fits.push_back(std::move(f));
  }
  return c;
}

QString oneLine(const std::string& text) {
  return QString::fromStdString(text).replace(QLatin1Char('\n'), QLatin1Char(' '));
}

}  // namespace

CalibrationRunData loadCalibrationRun(const QString& dbPath, qint64 runId) {
  CalibrationRunData out;
  out.runId = runId;
  try {
    const db::Database db = db::Database::open(dbPath.toStdString(), false);
    const std::optional<db::RunInfo> run = db.run(runId);
    const std::string what = "run " + std::to_string(runId);
    if (!run) throw db::DbError(db.path() + ": no " + what);
    if (run->kind != "calibration")
      throw db::DbError(what + " is a " + run->kind + " run, not a calibration (parm calibrate --db)");
    out.runName = QString::fromStdString(run->name);
    out.startedAt = QString::fromStdString(run->started_at);
    out.ranks = run->ranks;
    if (!run->result_json.empty()) {
      // The engine's reader first (depth, sizes, non-finite numbers), then the calibration's own rules.
      const JsonDocument doc = parse_json_text(run->result_json, what + " calibration");
      if (!doc.ok()) throw db::DbError(doc.error);
      out.calibration = calibration_from_json(*doc.value);
      out.hasSamples = true;
    } else {
      out.calibration = fromRows(db.calibrations(runId));
      if (out.calibration.fits.empty())
        throw db::DbError(what + ": the calibration stored no fits (an interrupted parm calibrate?)");
    }
  } catch (const std::exception& e) {
    out.calibration = {};
    out.hasSamples = false;
    out.error = oneLine(e.what());
  }
  return out;
}

}  // namespace parm::app
