// How a measured time and its noise are written: "78.7 [76.1-81.0]" (median [p10-p90], ms) in text, and
// {"p10", "p50", "p90", "min", "max", "n"} in JSON. `parm run`, `parm show` and `parm validate` share them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "engine/model/spread.h"

namespace parm::cli {

// Decimals by the median's size so about three significant digits show ("0.123 [0.101-0.145]",
// "123 [100-145]"); "-" without a sample.
std::string format_spread_ms(const Spread& s);

nlohmann::json spread_json(const Spread& s);

}  // namespace parm::cli
