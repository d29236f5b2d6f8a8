#include "engine/cli/validate_model.h"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "db/database.h"
#include "db/run_queries.h"
#include "engine/cli/model_predict.h"
#include "engine/cli/spread_format.h"
#include "engine/model/measured_best.h"
#include "engine/model/prediction_store.h"
#include "engine/model/schedule_spreads.h"

namespace parm::cli {

void validate_model(const Config& config, const Calibration& calib, const RunLaunch& launch, bool json,
                    std::optional<double> max_error) {
  // Predicted first: a missing fit is refused before anything runs.
  const std::vector<ModelPrediction> predicted = predict_model_or_exit(config, calib, "parm validate");
  RunLaunch l = launch;
  l.model = true;
  const RunResult result = launch_distributed_run(config, l);
  std::optional<std::int64_t> stored;  // with --db: the measured run, its predicted step stored beside it
  if (!launch.db_path.empty()) {
    try {
      db::Database db = db::Database::open(launch.db_path, false);
      stored = db::latest_run_of_kind(db, "measured", true);
      std::vector<TimelinePrediction> timelines;
      for (const ModelPrediction& p : predicted) {
        TimelinePrediction t;
        t.kind = p.kind;
        t.intervals = p.intervals;
        timelines.push_back(std::move(t));
      }
      if (stored) store_predicted_intervals(db, *stored, timelines);
    } catch (const std::exception& e) {
      std::cerr << "parm validate: " << e.what() << '\n';
      throw CLI::RuntimeError(1);
    }
  }
  const std::vector<ScheduleSummary> measured = summarize(result);
  const std::map<ScheduleKind, Spread> spreads = layer_time_spreads(result);
  std::vector<std::pair<ScheduleKind, Spread>> pairs(spreads.begin(), spreads.end());
  const MeasuredBest best = measured_best(pairs);
  const ScheduleKind chosen = model_choice(predicted);

  nlohmann::json rows = nlohmann::json::array();
  double error_sum = 0, chosen_ms = 0, best_ms = 0;
  for (const ModelPrediction& p : predicted) {
    const auto row = std::find_if(measured.begin(), measured.end(),
                                  [&](const ScheduleSummary& s) { return s.kind == p.kind; });
    if (row == measured.end()) continue;
    const double error = 100.0 * std::fabs(p.iteration_ms - row->total_ms) / row->total_ms;
    error_sum += error;
    if (p.kind == chosen) chosen_ms = row->total_ms;
    if (p.kind == best.fastest) best_ms = row->total_ms;
    rows.push_back({{"schedule", to_string(p.kind)},
                    {"predicted_ms", p.iteration_ms},
                    {"measured_ms", row->total_ms},
                    {"measured_ms_spread", spread_json(spreads.at(p.kind))},
                    {"error_pct", error},
                    {"predicted_exposed_sync_ms", p.exposed_sync_ms},
                    {"measured_exposed_sync_ms", row->exposed_sync_ms},
                    {"predicted_forward_ms", p.forward_ms},
                    {"measured_forward_ms", row->forward_ms}});
  }
  const double mean_error = rows.empty() ? 0 : error_sum / double(rows.size());
  const bool correct = std::find(best.tied.begin(), best.tied.end(), chosen) != best.tied.end();
  const double regret = best_ms > 0 ? 100.0 * (chosen_ms / best_ms - 1.0) : 0;
  std::vector<std::string> tied;
  for (ScheduleKind k : best.tied) tied.emplace_back(to_string(k));
  const nlohmann::json report{{"config", config.name},
                              {"unit", "model"},
                              {"calibration", calib.id},
                              {"schedules", rows},
                              {"mean_error_pct", mean_error},
                              {"auto", to_string(chosen)},
                              {"measured_best", to_string(best.best)},
                              {"measured_tied", tied},
                              {"choice_correct", correct},
                              {"regret_pct", std::max(0.0, regret)},
                              {"run", stored ? nlohmann::json(*stored) : nullptr}};
  if (json) {
    std::cout << report.dump(2) << '\n';
  } else {
    std::printf("parm validate --model: %s, %lld blocks (%lld MoE), %lld ranks; calibration %s\n",
                config.name.c_str(), (long long)config.model->layers, (long long)config.model->moe_blocks(),
                (long long)config.parallel.ranks, calib.id.c_str());
    std::printf("%-8s %14s %22s %8s %16s\n", "schedule", "predicted ms", "measured ms", "error",
                "exposed p/m");
    for (const auto& r : rows)
      std::printf("%-8s %14.3f %22s %7.1f%% %7.3f/%-7.3f\n", r["schedule"].get<std::string>().c_str(),
                  r["predicted_ms"].get<double>(),
                  format_spread_ms(spreads.at(*parse_schedule(r["schedule"].get<std::string>()))).c_str(),
                  r["error_pct"].get<double>(), r["predicted_exposed_sync_ms"].get<double>(),
                  r["measured_exposed_sync_ms"].get<double>());
    std::string tie_text;
    for (std::size_t i = 0; i < tied.size(); ++i) tie_text += (i ? ", " : "") + tied[i];
    std::printf(
        "mean iteration error %.1f%%; auto (the predicted choice) %s; measured best %s%s: %s, regret "
        "%.1f%%\n",
        mean_error, std::string(to_string(chosen)).c_str(), std::string(to_string(best.best)).c_str(),
        best.tie() ? (" (tied within noise: " + tie_text + ")").c_str() : "", correct ? "correct" : "wrong",
        std::max(0.0, regret));
    if (stored)
      std::printf("stored as run %lld in %s, with the predicted step of every schedule\n", (long long)*stored,
                  launch.db_path.c_str());
  }
  if (max_error && mean_error > *max_error) {
    std::fflush(stdout);
    std::cerr << "parm validate: mean iteration error " << mean_error << "% exceeds --max-error "
              << *max_error << "%\n";
    throw CLI::RuntimeError(3);
  }
}

}  // namespace parm::cli
