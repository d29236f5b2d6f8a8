// Reads a calibration run (`parm calibrate --db`) from a project: its Calibration JSON (the run's result,
// with every fit's samples) through parm_core's validating reader, or, for a run without a result, the fits
// of the calibrations table (alpha, beta, r2, sample count; no samples to plot). A plain function of values,
// so the page runs it on a LatestJob worker (opening a project checks its integrity, which takes a while on a
// large file).
#pragma once

#include <QString>
#include <cstdint>

#include "engine/model/calibration.h"

namespace parm::app {

struct CalibrationRunData {
  qint64 runId = 0;
  QString runName;    // the configuration's name
  QString startedAt;  // when the run was stored
  int ranks = 0;
  Calibration calibration;
  bool hasSamples = false;  // false: the fits came from the calibrations table (no result JSON)
  QString error;            // one line; empty on success
};

CalibrationRunData loadCalibrationRun(const QString& dbPath, qint64 runId);

}  // namespace parm::app
