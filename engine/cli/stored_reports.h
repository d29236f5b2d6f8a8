// `parm show` of runs that hold no per-schedule RunResult: a validation run's report (per layer: the
// configuration, the chosen schedule, predicted and measured ms, error, the measured run) and a calibration
// run's fits.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>

#include "db/database.h"

namespace parm::cli {

// What every `parm show` prints first: the run's header line, and the same fields as a JSON object.
void print_run_line(const db::RunInfo& run);
nlohmann::json run_header_json(const db::RunInfo& run);

// The report of a run of kind "validation", printed as a table per layer (or as the stored JSON with
// `json`). Throws std::runtime_error (one line) when the report is not a validation report.
void print_validation_report(const db::RunInfo& run, const nlohmann::json& report, bool json);

// The fits of a run of kind "calibration" (Database::calibrations), one line per op and communicator.
void print_calibration_fits(const db::Database& d, const db::RunInfo& run, bool json);

}  // namespace parm::cli
