// What a calibration reports: the table's header (the layout and sweep it was measured with) and the
// Calibration built from the fitted measurements (what --out writes as JSON and --db stores).
#pragma once

#include <ostream>
#include <vector>

#include "engine/calibrate/calibration_run.h"
#include "engine/calibrate/measurement.h"

namespace parm::calibrate {

void write_table_header(std::ostream& table, const Config& config, const CalibrationOptions& options);

// The fitted measurements (unfitted ones are left out) with the time and an id; the host and where it ran
// (apply_environment) are the caller's.
Calibration make_calibration(const Config& config, const CalibrationOptions& options, double interference,
                             const std::vector<Measurement>& fits);

}  // namespace parm::calibrate
