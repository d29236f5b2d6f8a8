// What `parm run` prints for a distributed run: the text summary (layer or model table, --verify's table) and
// the --json document, from the ranks' result and the per-schedule summary rows.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "engine/cli/summary_table.h"
#include "engine/core/run_result.h"

namespace parm::cli {

void print_distributed_text(const RunResult& result, const std::vector<ScheduleSummary>& rows);
nlohmann::json distributed_json(const RunResult& result, const std::vector<ScheduleSummary>& rows);

}  // namespace parm::cli
