// `parm validate CONFIG|GRID --calibration FILE`: runs every schedule of each configuration for real (the
// `parm run` launch path), predicts it with the calibration (timeline model) and reports how far apart they
// are: per schedule the absolute % error of the layer time, per configuration its mean and max, selection
// accuracy (the predicted best is the measured best or tied within noise with it:
// engine/model/measured_best.h) and regret (measured time of the predicted choice / measured best - 1). With
// --db the traced runs give a per-op comparison (median over iterations of the slowest rank's summed duration
// per schedule/phase/op/purpose) and the report is stored as a run of kind "validation". Exit 3 when the mean
// layer error exceeds --max-error.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include "db/database.h"
#include "engine/backend/backend_availability.h"
#include "engine/cli/arg_rules.h"
#include "engine/cli/backend_option.h"
#include "engine/cli/commands.h"
#include "engine/cli/db_option.h"
#include "engine/cli/model_support.h"
#include "engine/core/config_json.h"
#include "engine/core/run_result.h"
#include "engine/core/sizes.h"
#include "engine/core/validation.h"
#include "engine/launch/cluster_launch.h"
#include "engine/model/calibration.h"
#include "engine/model/calibration_source.h"
#include "engine/model/measured_best.h"
#include "engine/model/prediction_store.h"
#include "engine/model/run_comparison.h"
#include "engine/model/timeline_model.h"
#include "resources/presets.h"

namespace parm::cli {
namespace {

struct ValidateArgs {
  std::string target;
  std::int64_t ranks = 0;
  std::int64_t gpus_per_node = 0;
  std::string cluster;
  std::string calibration;
  std::string db_path;
  std::optional<double> max_error;
  bool json = false;
  std::int64_t limit = 0;
  std::int64_t timeout_ms = 0;
  std::string backend;  // --backend, empty: each configuration's run.backend
};

[[noreturn]] void refuse(const std::string& line, int code = 2) {
  std::cerr << "parm validate: " << line << '\n';
  throw CLI::RuntimeError(code);
}

std::string name_of(ScheduleKind k) {
  return std::string(to_string(k));
}

// The configuration as written (file or embedded preset), unvalidated so the layout options apply first.
Config load_single(const std::string& path) {
  ConfigLoad load;
  if (path.empty())
    load = config_from_json_text(*resources::embedded_preset("default"));
  else if (auto preset = resources::embedded_preset(path); preset && !std::filesystem::exists(path))
    load = config_from_json_text(*preset);
  else
    load = load_config_file(path);
  if (!load.config) {
    for (const auto& issue : load.issues.items)
      std::cerr << (path.empty() ? "default" : path) << ": " << issue.line() << '\n';
    throw CLI::RuntimeError(2);
  }
  return *load.config;
}

std::string label(const Config& c, std::uint64_t index, bool grid) {
  if (!grid) return c.name;
  const LayerConfig& l = c.layer;
  char buf[160];
  std::snprintf(buf, sizeof buf, "#%llu b%lld s%lld M%lld H%lld E%lld k%lld f%g", (unsigned long long)index,
                (long long)l.batch, (long long)l.seq_len, (long long)l.hidden, (long long)l.ffn_hidden,
                (long long)l.num_experts, (long long)l.top_k, l.capacity_factor);
  return buf;
}

double pct_error(double predicted, double measured) {
  return measured > 0 ? 100.0 * std::abs(predicted - measured) / measured : 0.0;
}

// measured_ops, traced_name and OpKey: engine/run_comparison.h; measured_best: engine/model/measured_best.h
// (the GUI shares them).

std::int64_t latest_measured_run(const db::Database& db) {
  std::int64_t id = 0;
  for (const db::RunInfo& r : db.runs())
    if (r.kind == "measured" && r.id > id) id = r.id;
  return id;
}

struct OpError {
  std::string config, schedule, op, purpose;
  int phase = 0;
  double measured_ms = 0, predicted_ms = 0;
  double abs_ms() const { return std::abs(predicted_ms - measured_ms); }
};

void run_validate(const ValidateArgs& a) {
  // Configurations, with the command line's layout applied; a grid's are made from their index one at a
  // time (engine/grid_file.h), so only the picked ones are kept.
  const bool grid = !a.target.empty() && std::filesystem::is_regular_file(a.target) && is_grid_file(a.target);
  std::optional<Grid> g;
  if (grid) g = load_grid_or_exit(a.target);
  std::int64_t cluster_g = 0;
  if (!a.cluster.empty()) {
    try {
      cluster::check_name(a.cluster);
      cluster_g = cluster::require_cluster(a.cluster).spec.ranks_per_node;
    } catch (const cluster::ClusterError& e) {
      refuse(std::string("--cluster: ") + e.what());
    }
    if (a.gpus_per_node > 0 && a.gpus_per_node != cluster_g)
      refuse("--gpus-per-node " + std::to_string(a.gpus_per_node) + " does not match cluster '" + a.cluster +
             "' (" + std::to_string(cluster_g) + " ranks per node)");
  }
  const auto prepared = [&](Config c) {
    if (a.ranks > 0) c.parallel.ranks = a.ranks;
    if (a.gpus_per_node > 0) c.parallel.gpus_per_node = a.gpus_per_node;
    if (cluster_g > 0) c.parallel.gpus_per_node = cluster_g;
    apply_backend_override(a.backend, c);
    c.run.schedules = all_schedules();
    return c;
  };
  std::vector<Config> valid;             // the configurations to validate
  std::vector<std::uint64_t> positions;  // their index in the grid (labels)
  std::uint64_t invalid = 0;
  if (!grid) {
    const Config c = prepared(load_single(a.target));
    const ConfigIssues issues = validate(c);
    if (issues.has_errors()) {
      for (const auto& issue : issues.items) std::cerr << c.name << ": " << issue.line() << '\n';
      throw CLI::RuntimeError(2);
    }
    valid.push_back(c);
    positions.push_back(0);
  } else {
    std::uint64_t count = 0;
    const std::uint64_t k = grid_pick_count(*g, a.target, a.limit, "parm validate", count);
    const auto is_valid = [&](std::uint64_t i) {
      return !validate(prepared(grid_configuration(*g, i))).has_errors();
    };
    std::vector<std::uint64_t> candidates;  // valid indices when the grid is small enough to scan
    if (count <= 10 * kMaxGridWithoutLimit) {
      for (std::uint64_t i = 0; i < count; ++i) {
        if (is_valid(i))
          candidates.push_back(i);
        else
          ++invalid;
      }
      const std::uint64_t n = candidates.size(), take = std::min<std::uint64_t>(n, k);
      for (std::uint64_t i = 0; i < take; ++i) positions.push_back(candidates[evenly_spaced(i, take, n)]);
    } else {  // too large to scan: K evenly spaced over the grid, the invalid ones among them skipped
      for (std::uint64_t i = 0; i < k; ++i) {
        const std::uint64_t index = evenly_spaced(i, k, count);
        if (is_valid(index))
          positions.push_back(index);
        else
          ++invalid;
      }
    }
    for (std::uint64_t index : positions) valid.push_back(prepared(grid_configuration(*g, index)));
    if (valid.empty())
      refuse(a.target + ": every configuration is invalid (" + std::to_string(invalid) + " checked)");
  }
  if (valid.empty()) refuse("no valid configuration in " + a.target);
  for (const Config& c : valid)  // a cuda run must never be measured on the cpu engine
    if (const auto why = backend_unavailable(c.run.backend)) refuse(*why);
  std::vector<std::size_t> picked;  // indices into valid
  for (std::size_t i = 0; i < valid.size(); ++i) picked.push_back(i);

  Calibration calib;
  try {
    calib = load_calibration_ref(a.calibration, a.db_path);
  } catch (const std::exception& e) {
    refuse(e.what());
  }
  if (auto why = calibration_mismatch(calib, valid.front())) refuse(*why);
  // Predict everything first: a missing fit is refused before anything runs.
  std::vector<std::vector<TimelinePrediction>> predictions;
  try {
    for (std::size_t i : picked) {
      const DerivedSizes sizes = derive_sizes(valid[i]);
      std::vector<TimelinePrediction> row;
      for (ScheduleKind s : all_schedules()) row.push_back(predict_timeline(valid[i], sizes, calib, s));
      predictions.push_back(std::move(row));
    }
  } catch (const std::runtime_error& e) {
    refuse(e.what());
  }

  RunLaunch launch;
  launch.cluster = a.cluster;
  launch.db_path = a.db_path;
  launch.timeout_ms = a.timeout_ms;
  launch.pass_schedules = true;
  launch.who = "parm validate";

  nlohmann::json layers = nlohmann::json::array();
  std::vector<OpError> op_errors;
  std::vector<double> layer_means, regrets;
  double max_error = 0;
  int correct = 0;
  for (std::size_t j = 0; j < picked.size(); ++j) {
    const Config& c = valid[picked[j]];
    const std::string name = label(c, positions[picked[j]], grid);
    std::cerr << "parm validate: [" << j + 1 << "/" << picked.size() << "] " << name << '\n';
    const RunResult result = launch_distributed_run(c, launch);
    const std::vector<ScheduleSummary> rows = summarize(result);
    std::vector<std::pair<ScheduleKind, double>> measured, predicted;
    std::map<ScheduleKind, double> meas_of, pred_of;
    for (const ScheduleSummary& r : rows) meas_of[r.kind] = r.total_ms;
    for (const TimelinePrediction& t : predictions[j]) pred_of[t.kind] = t.layer_ms;
    nlohmann::json schedules = nlohmann::json::array();
    double sum_err = 0, layer_max = 0;
    for (ScheduleKind s : all_schedules()) {
      if (!meas_of.count(s)) refuse("the run of " + name + " has no result for " + name_of(s), 1);
      const double m = meas_of[s], p = pred_of[s], err = pct_error(p, m);
      measured.emplace_back(s, m);
      predicted.emplace_back(s, p);
      sum_err += err;
      layer_max = std::max(layer_max, err);
      const double bds = meas_of.count(kSpeedupBaseline) ? meas_of[kSpeedupBaseline] : 0.0;
      schedules.push_back({{"schedule", name_of(s)},
                           {"measured_ms", m},
                           {"predicted_ms", p},
                           {"error_pct", err},
                           {"measured_speedup_vs_B_DS", m > 0 ? bds / m : 0.0}});
    }
    const double layer_mean = sum_err / static_cast<double>(all_schedules().size());
    const ScheduleKind pred_best = select_by_time(predicted);
    const std::map<ScheduleKind, Spread> spreads = layer_time_spreads(result);
    std::vector<std::pair<ScheduleKind, Spread>> measured_spreads;
    for (const auto& [s, m] : measured)
      if (const auto it = spreads.find(s); it != spreads.end()) measured_spreads.emplace_back(s, it->second);
    const MeasuredBest best = measured_best(measured_spreads);
    const ScheduleKind meas_best = best.best;
    const bool right = std::find(best.tied.begin(), best.tied.end(), pred_best) != best.tied.end();
    nlohmann::json tied = nlohmann::json::array();
    for (ScheduleKind s : best.tied) tied.push_back(name_of(s));
    double fastest = measured.front().second;
    for (const auto& [s, m] : measured) fastest = std::min(fastest, m);
    const double regret = fastest > 0 ? std::max(0.0, meas_of[pred_best] / fastest - 1.0) : 0.0;
    layer_means.push_back(layer_mean);
    regrets.push_back(regret);
    max_error = std::max(max_error, layer_max);
    correct += right;
    nlohmann::json layer{{"config", name},
                         {"schedules", schedules},
                         {"mean_error_pct", layer_mean},
                         {"max_error_pct", layer_max},
                         {"predicted_best", name_of(pred_best)},
                         {"measured_best", name_of(meas_best)},
                         {"measured_tied", tied},
                         {"correct", right},
                         {"regret", regret}};
    if (!grid) layer["reason"] = recommendation_reason(c, calib);

    if (!a.db_path.empty()) {
      try {
        db::Database db = db::Database::open(a.db_path, false);
        const std::int64_t run = latest_measured_run(db);
        layer["measured_run"] = run;
        store_predicted_intervals(db, run, predictions[j]);  // measured and predicted overlay in one run
        const std::map<OpKey, double> meas_ops = measured_ops(db, run);
        std::map<OpKey, double> pred_ops;
        for (const TimelinePrediction& t : predictions[j])
          for (const PredictedInterval& iv : t.intervals)
            pred_ops[{name_of(t.kind), iv.phase, traced_name(iv.name), iv.purpose}] +=
                iv.end_ms - iv.start_ms;
        for (const auto& [key, m] : meas_ops) {
          const auto it = pred_ops.find(key);
          OpError e{name,
                    std::get<0>(key),
                    std::get<2>(key),
                    std::get<3>(key),
                    std::get<1>(key),
                    m,
                    it == pred_ops.end() ? 0.0 : it->second};
          op_errors.push_back(e);
        }
      } catch (const db::DbError& e) {
        refuse(e.what(), 1);
      }
    }
    layers.push_back(layer);
  }

  const double count = static_cast<double>(layer_means.size());
  double mean_error = 0, mean_regret = 0, max_regret = 0;
  for (double e : layer_means) mean_error += e / count;
  for (double r : regrets) {
    mean_regret += r / count;
    max_regret = std::max(max_regret, r);
  }
  std::sort(op_errors.begin(), op_errors.end(),
            [](const OpError& x, const OpError& y) { return x.abs_ms() > y.abs_ms(); });
  nlohmann::json worst = nlohmann::json::array();
  for (std::size_t i = 0; i < op_errors.size() && i < 5; ++i) {
    const OpError& e = op_errors[i];
    worst.push_back({{"config", e.config},
                     {"schedule", e.schedule},
                     {"phase", e.phase == 0 ? "fwd" : "bwd"},
                     {"op", e.op},
                     {"purpose", e.purpose},
                     {"measured_ms", e.measured_ms},
                     {"predicted_ms", e.predicted_ms},
                     {"error_ms", e.predicted_ms - e.measured_ms}});
  }
  // Per op name over every configuration and schedule: where the time goes and which way the model errs.
  std::map<std::string, std::pair<double, double>> by_op;
  for (const OpError& e : op_errors) {
    by_op[e.op].first += e.measured_ms;
    by_op[e.op].second += e.predicted_ms;
  }
  nlohmann::json ops = nlohmann::json::array();
  for (const auto& [op, mp] : by_op)
    ops.push_back({{"op", op}, {"measured_ms", mp.first}, {"predicted_ms", mp.second}});

  nlohmann::json report{{"target", a.target.empty() ? std::string("default") : a.target},
                        {"calibration", calib.id},
                        {"ranks", valid.front().parallel.ranks},
                        {"gpus_per_node", valid.front().parallel.gpus_per_node},
                        {"configurations", layers.size()},
                        {"invalid", invalid},
                        {"layers", layers},
                        {"mean_error_pct", mean_error},
                        {"max_error_pct", max_error},
                        {"selection_accuracy", count > 0 ? correct / count : 0.0},
                        {"regret", {{"mean", mean_regret}, {"max", max_regret}}}};
  if (!a.db_path.empty()) {
    report["worst_ops"] = worst;
    report["ops"] = ops;
  }
  if (a.max_error) report["max_error_threshold_pct"] = *a.max_error;
  if (!a.db_path.empty()) {
    try {
      auto db = db::Database::open(a.db_path, true);
      db::RunInfo run;
      run.name = grid ? report["target"].get<std::string>() : valid.front().name;
      run.kind = "validation";
      run.backend = calib.backend;
      run.ranks = static_cast<int>(valid.front().parallel.ranks);
      run.config_json = config_to_json(valid.front()).dump();
      run.result_json = report.dump();
      const std::int64_t id = db.begin_run(run);
      db.finish_run(id);
      report["run"] = id;
    } catch (const db::DbError& e) {
      refuse(e.what(), 1);
    }
  }

  if (a.json) {
    std::cout << report.dump(2) << '\n';
  } else {
    for (const auto& layer : layers) {
      std::string tied;
      if (layer["measured_tied"].size() > 1) {
        for (const auto& t : layer["measured_tied"])
          tied += (tied.empty() ? "" : ", ") + t.get<std::string>();
        tied = " (tied within noise: " + tied +
               (layer["measured_best"] == "B_DS" ? "; nothing beats B_DS" : "; the registry order picks") +
               ")";
      }
      std::printf("\n%s: predicted best %s, measured best %s%s%s, regret %.1f%%\n",
                  layer["config"].get<std::string>().c_str(),
                  layer["predicted_best"].get<std::string>().c_str(),
                  layer["measured_best"].get<std::string>().c_str(), tied.c_str(),
                  layer["correct"].get<bool>() ? " (right)" : "", 100.0 * layer["regret"].get<double>());
      std::printf("%-6s %12s %13s %8s %12s\n", "sched", "measured ms", "predicted ms", "error", "vs B_DS");
      for (const auto& s : layer["schedules"])
        std::printf("%-6s %12.3f %13.3f %7.1f%% %11.2fx%s\n", s["schedule"].get<std::string>().c_str(),
                    s["measured_ms"].get<double>(), s["predicted_ms"].get<double>(),
                    s["error_pct"].get<double>(), s["measured_speedup_vs_B_DS"].get<double>(),
                    s["schedule"] == layer["predicted_best"] ? "  <- recommended" : "");
      std::printf("layer error: mean %.1f%%, max %.1f%%\n", layer["mean_error_pct"].get<double>(),
                  layer["max_error_pct"].get<double>());
      if (layer.contains("reason"))
        std::printf("recommendation: %s\n", layer["reason"].get<std::string>().c_str());
    }
    std::printf(
        "\n%zu configuration%s on %lld ranks: layer time error mean %.1f%%, max %.1f%%; selection "
        "accuracy %.0f%% (%d/%zu); regret mean %.1f%%, max %.1f%%\n",
        layers.size(), layers.size() == 1 ? "" : "s", (long long)valid.front().parallel.ranks, mean_error,
        max_error, 100.0 * (count > 0 ? correct / count : 0.0), correct, layers.size(), 100.0 * mean_regret,
        100.0 * max_regret);
    if (!worst.empty()) {
      std::printf("largest per-op errors (median over iterations, slowest rank):\n");
      for (const auto& w : worst)
        std::printf("  %-28s %-4s %-3s %-22s %-16s measured %8.3f ms, predicted %8.3f ms (%+.3f)\n",
                    w["config"].get<std::string>().c_str(), w["schedule"].get<std::string>().c_str(),
                    w["phase"].get<std::string>().c_str(), w["op"].get<std::string>().c_str(),
                    w["purpose"].get<std::string>().c_str(), w["measured_ms"].get<double>(),
                    w["predicted_ms"].get<double>(), w["error_ms"].get<double>());
    }
    if (report.contains("run"))
      std::printf("stored as run %lld (kind validation) in %s\n",
                  (long long)report["run"].get<std::int64_t>(), a.db_path.c_str());
  }
  if (a.max_error && mean_error > *a.max_error) {
    std::fprintf(stderr, "parm validate: mean layer error %.2f%% exceeds --max-error %g%%\n", mean_error,
                 *a.max_error);
    throw CLI::RuntimeError(3);
  }
}

}  // namespace

void add_validate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("validate",
                                 "Run every schedule for real and compare with the prediction: % error per "
                                 "schedule and layer, selection "
                                 "accuracy, regret; exit 3 above --max-error");
  auto a = std::make_shared<ValidateArgs>();
  cmd->add_option(
      "target", a->target,
      "configuration JSON file, embedded preset name or grid file (parm sweep's format); default: "
      "the embedded default preset");
  cmd->add_option("--ranks", a->ranks, "number of ranks P (overrides parallel.ranks)")->check(integer_in(1));
  add_backend_option(cmd, a->backend);
  cmd->add_option("--gpus-per-node", a->gpus_per_node, "ranks per node G (overrides parallel.gpus_per_node)")
      ->check(integer_in(1));
  cmd->add_option("--cluster", a->cluster, "run on the emulated cluster NAME (parm cluster up)");
  add_calibration_option(cmd, a->calibration);
  cmd->add_option(
         "--db", a->db_path,
         "SQLite project file: store the traced runs and the report (kind 'validation'); enables the "
         "per-op comparison")
      ->check(db_path_check("validate"));
  cmd->add_option("--max-error", a->max_error, "exit 3 when the mean layer error exceeds PCT percent")
      ->check(number_at_least(0));
  cmd->add_flag("--json", a->json, "machine-readable report");
  cmd->add_option("--limit", a->limit, "validate K evenly spaced configurations of a grid")
      ->check(integer_in(1));
  cmd->add_option("--timeout-ms", a->timeout_ms, "bound on every collective wait, in ms (default 60000)")
      ->check(integer_in(1));
  cmd->callback([a] {
    require_storable_db("validate", a->db_path);
    run_validate(*a);
  });
}

}  // namespace parm::cli
