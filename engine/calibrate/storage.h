// The storage step of `parm calibrate --db`: the calibration as a run of kind "calibration" with one row per
// fit (seconds, seconds per unit) and the Calibration JSON as its result.
#pragma once

#include <cstdint>
#include <string>

#include "engine/core/config.h"
#include "engine/model/calibration.h"

namespace parm::calibrate {

struct StoredCalibration {
  std::int64_t run = 0;
  std::size_t fits = 0;
};

StoredCalibration store_calibration(const std::string& db_path, const Config& config, const Calibration& c,
                                    int ranks);

}  // namespace parm::calibrate
