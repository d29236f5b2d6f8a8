// The per-schedule table `parm run` prints after a run and `parm show` reprints from the database, and its
// JSON rows: per schedule the forward, backward and total medians with their p10-p90 over iterations (slowest
// rank per iteration, engine/model/schedule_spreads.h), the speedup over B_DS and the counted bytes.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/core/run_result.h"
#include "engine/model/schedule_spreads.h"

namespace parm::cli {

std::string format_speedup(const std::optional<double>& speedup);  // "1.23x", or "-" without B_DS
// "12.3 [11.9-13.0]" when the spread is known, else the bare median ("12.300").
std::string time_cell(double median_ms, const Spread* spread);

// The iterations line, the header and one row per schedule ("12.3 [11.9-13.0]" per time; within 110
// columns). A schedule missing from `spreads` prints its medians alone.
void print_summary_table(const Config& config, const std::vector<ScheduleSummary>& rows,
                         const std::map<ScheduleKind, ScheduleSpreads>& spreads);

// {"schedule", "forward_ms", "backward_ms", "total_ms", "speedup_vs_bds", "intra_bytes", "inter_bytes"} and,
// when `spreads` holds the schedule, "forward_ms_spread", "backward_ms_spread", "total_ms_spread".
nlohmann::json summary_row_json(const ScheduleSummary& row,
                                const std::map<ScheduleKind, ScheduleSpreads>& spreads);

}  // namespace parm::cli
