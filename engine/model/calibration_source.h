// Where `--calibration` takes a calibration from: a JSON file (`parm calibrate --out`), or the project
// database that `parm calibrate --db` stored it in: "ID" (a run id in the command's --db project),
// "PROJECT.sqlite#ID", or "PROJECT.sqlite" alone (its latest complete calibration). Errors are one line
// naming the argument and what is wrong (no such run, a run of another kind, an incomplete calibration, no
// --db for a bare id).
#pragma once

#include <string>

#include "engine/model/calibration.h"

namespace parm {

Calibration load_calibration_ref(const std::string& ref, const std::string& db_path);

}  // namespace parm
