// What `parm validate` reports about its measurements (cli_validate.cpp runs them): one configuration's K
// runs next to its predictions as the report's layer object, the selection tally with its ties, and the
// text form of the whole report. Measured values follow engine/model/repeated_runs.h: per schedule the
// median of the K runs' medians (errors, regret), the pooled p10-p90 of all K x iterations samples (the
// measured-best noise rule) and the run-to-run spread of the K medians.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/core/run_result.h"
#include "engine/model/timeline_model.h"

namespace parm::cli {

// {"config", "repeat", "schedules": [{"schedule", "measured_ms", "measured_ms_spread", "runs": {"medians_ms",
// "min", "median", "max", "relative_range"}, "predicted_ms", "error_pct", "measured_speedup_vs_B_DS"}],
// "mean_error_pct", "max_error_pct", "predicted_best", "measured_best", "measured_fastest", "measured_tied",
// "tie", "correct", "correct_by_tie", "regret", "run_to_run": {"mean_relative_range", "max_relative_range"}}.
// `runs` in measurement order, every one with all of `predictions`' schedules; throws std::runtime_error
// naming the schedule a run lacks.
nlohmann::json validate_layer_json(const std::string& name, const std::vector<RunResult>& runs,
                                   const std::vector<TimelinePrediction>& predictions);

// Selection over the layers: correct counts a choice inside the measured-best set; ties = layers whose set
// holds more than one schedule; correct_by_tie = correct choices that are not the fastest median.
struct SelectionTally {
  int layers = 0;
  int correct = 0;
  int ties = 0;
  int correct_by_tie = 0;
  double accuracy() const { return layers > 0 ? static_cast<double>(correct) / layers : 0.0; }
};
SelectionTally selection_tally(const nlohmann::json& layers);

// How the measured best was decided, in words, for the report and its text ("the p10-p90 of all 2 runs x 5
// iterations pooled, slowest rank per iteration, overlapping the fastest median's").
std::string measured_best_rule(std::int64_t repeat, std::int64_t iterations);

// The text form of a finished report (the JSON cli_validate builds): per layer its line and schedule rows,
// the summary line with the ties, the largest per-op errors, where it was stored and, last, the run-to-run
// spread of this setting.
void print_validate_report(const nlohmann::json& report, const std::string& db_path);

}  // namespace parm::cli
