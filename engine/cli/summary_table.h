// The per-schedule table `parm run` prints after a run and `parm show` reprints from the database.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/core/run_result.h"

namespace parm::cli {

std::string format_speedup(const std::optional<double>& speedup);  // "1.23x", or "-" without B_DS

// The iterations line, the header and one row per schedule.
void print_summary_table(const Config& config, const std::vector<ScheduleSummary>& rows);

}  // namespace parm::cli
