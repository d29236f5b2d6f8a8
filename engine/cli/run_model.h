// `parm run --model` (issue 18): what is refused before any rank starts, and the iteration table: per
// schedule (every MoE block on it) the forward, the rest of the step (backward and the gradient sync it
// leaves exposed), the exposed and the total sync, the iteration, the speedup over B_DS and the loss.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/core/run_result.h"
#include "engine/model/schedule_spreads.h"

namespace parm::cli {

// One line on stderr and CLI::RuntimeError(2) for a model run this build cannot do: no model section, a
// 16-bit dtype, --verify (the reference model checks the engine in the
// test suite, not per run yet), --gate-logits or --dump-routing (per-layer options).
void check_model_run(const Config& config, bool verify, bool routing_options);

void print_model_table(const Config& config, const std::vector<ScheduleSummary>& rows,
                       const std::map<ScheduleKind, ScheduleSpreads>& spreads);

// summary_row_json plus "exposed_sync_ms", "sync_ms", "iteration_ms" (= total_ms) and "loss".
nlohmann::json model_row_json(const ScheduleSummary& row,
                              const std::map<ScheduleKind, ScheduleSpreads>& spreads);

}  // namespace parm::cli
