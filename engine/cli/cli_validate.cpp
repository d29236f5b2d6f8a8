// `parm validate CONFIG|GRID --calibration FILE`: runs every schedule of each configuration for real (the
// `parm run` launch path), predicts it with the calibration (timeline model) and reports how far apart they
// are: per schedule the absolute % error of the layer time, per configuration its mean and max, selection
// accuracy (the predicted best is inside the measured-best set: the schedules tied within noise with the
// fastest, engine/model/measured_best.h; ties and choices right only thanks to one are counted) and regret
// (measured time of the predicted choice / fastest measured - 1). --repeat K measures every configuration K
// times, interleaved, and reports the run-to-run spread (engine/model/repeated_runs.h; the report itself:
// validate_report.h). With --db the traced runs give a per-op comparison (median over iterations of the
// slowest rank's summed duration per schedule/phase/op/purpose, median over the runs) and the report is
// stored as a run of kind "validation". Exit 3 when the mean layer error exceeds --max-error.
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
#include "engine/cli/launcher_option.h"
#include "engine/cli/model_support.h"
#include "engine/cli/run_model.h"
#include "engine/cli/validate_model.h"
#include "engine/cli/validate_report.h"
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
#include "engine/schedules/schedule_registry.h"
#include "resources/presets.h"

namespace parm::cli {
namespace {

struct ValidateArgs {
  std::string target;
  std::int64_t ranks = 0;
  std::int64_t gpus_per_node = 0;
  std::string cluster;
  std::string launcher;
  std::string calibration;
  std::string db_path;
  std::optional<double> max_error;
  bool json = false;
  std::int64_t limit = 0;
  std::int64_t timeout_ms = 0;
  std::string backend;      // --backend, empty: each configuration's run.backend
  std::int64_t repeat = 1;  // measurements of each configuration, interleaved
  SelectionSpace space;     // --degrees, --alltoall: every schedule also as these variants
  bool model = false;       // --model: the whole model's training step
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
    c.run.schedules = a.space.candidates(c.parallel);
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
  if (a.model && (grid || a.repeat > 1)) refuse("--model validates one configuration, measured once");
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
  RunLaunch launch;
  launch.cluster = a.cluster;
  launch.launcher = a.launcher;
  launch.db_path = a.db_path;
  launch.timeout_ms = a.timeout_ms;
  launch.pass_schedules = true;
  launch.who = "parm validate";
  if (a.model) {
    if (!valid.front().model) refuse("--model: " + valid.front().name + " has no 'model' section");
    check_model_run(valid.front(), false, false);
    validate_model(valid.front(), calib, launch, a.json, a.max_error);
    return;
  }
  // Predict everything first: a missing fit is refused before anything runs.
  std::vector<std::vector<TimelinePrediction>> predictions;
  try {
    for (std::size_t i : picked) {
      const DerivedSizes sizes = derive_sizes(valid[i]);
      std::vector<TimelinePrediction> row;
      for (ScheduleKind s : valid[i].run.schedules)
        row.push_back(predict_timeline(valid[i], sizes, calib, s));
      predictions.push_back(std::move(row));
    }
  } catch (const std::runtime_error& e) {
    refuse(e.what());
  }

  // Interleaved: round r measures every configuration once, so a slow spell of the machine touches every
  // configuration a little instead of one configuration entirely. With --db each run is stored as usual.
  std::vector<std::vector<RunResult>> results(picked.size());
  std::vector<std::vector<std::int64_t>> stored_runs(picked.size());
  for (std::int64_t round = 0; round < a.repeat; ++round)
    for (std::size_t j = 0; j < picked.size(); ++j) {
      const Config& c = valid[picked[j]];
      std::cerr << "parm validate: ";
      if (a.repeat > 1) std::cerr << "[run " << round + 1 << "/" << a.repeat << "] ";
      std::cerr << "[" << j + 1 << "/" << picked.size() << "] " << label(c, positions[picked[j]], grid)
                << '\n';
      results[j].push_back(launch_distributed_run(c, launch));
      if (a.db_path.empty()) continue;
      try {
        db::Database db = db::Database::open(a.db_path, false);
        const std::int64_t run = latest_measured_run(db);
        stored_runs[j].push_back(run);
        store_predicted_intervals(db, run, predictions[j]);  // measured and predicted overlay in one run
      } catch (const db::DbError& e) {
        refuse(e.what(), 1);
      }
    }

  nlohmann::json layers = nlohmann::json::array();
  std::vector<OpError> op_errors;
  std::vector<double> layer_means, regrets, run_ranges;
  double max_error = 0, max_range = 0;
  for (std::size_t j = 0; j < picked.size(); ++j) {
    const Config& c = valid[picked[j]];
    const std::string name = label(c, positions[picked[j]], grid);
    nlohmann::json layer;
    try {
      layer = validate_layer_json(name, results[j], predictions[j]);
    } catch (const std::runtime_error& e) {
      refuse(e.what(), 1);
    }
    layer_means.push_back(layer["mean_error_pct"].get<double>());
    regrets.push_back(layer["regret"].get<double>());
    max_error = std::max(max_error, layer["max_error_pct"].get<double>());
    run_ranges.push_back(layer["run_to_run"]["mean_relative_range"].get<double>());
    max_range = std::max(max_range, layer["run_to_run"]["max_relative_range"].get<double>());
    if (!grid) layer["reason"] = recommendation_reason(c, calib, a.space);

    if (!stored_runs[j].empty()) {
      layer["measured_run"] = stored_runs[j].front();
      layer["measured_runs"] = stored_runs[j];
      try {
        const db::Database db = db::Database::open(a.db_path, false);
        // Per op, the median over the runs of each run's median over iterations.
        std::map<OpKey, std::vector<double>> meas_ops;
        for (std::int64_t run : stored_runs[j])
          for (const auto& [key, m] : measured_ops(db, run)) meas_ops[key].push_back(m);
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
                    spread_of(m).p50,
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
  double mean_error = 0, mean_regret = 0, max_regret = 0, mean_range = 0;
  for (double e : layer_means) mean_error += e / count;
  for (double r : run_ranges) mean_range += r / count;
  const SelectionTally tally = selection_tally(layers);
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

  nlohmann::json report{
      {"target", a.target.empty() ? std::string("default") : a.target},
      {"calibration", calib.id},
      {"ranks", valid.front().parallel.ranks},
      {"gpus_per_node", valid.front().parallel.gpus_per_node},
      {"configurations", layers.size()},
      {"invalid", invalid},
      {"layers", layers},
      {"mean_error_pct", mean_error},
      {"max_error_pct", max_error},
      {"selection_accuracy", tally.accuracy()},
      {"selection_correct", tally.correct},
      {"measured_ties", tally.ties},
      {"correct_by_tie", tally.correct_by_tie},
      {"measured_best_rule", measured_best_rule(a.repeat, valid.front().run.iterations)},
      {"repeat", a.repeat},
      {"run_to_run", {{"mean_relative_range", mean_range}, {"max_relative_range", max_range}}},
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

  if (a.json)
    std::cout << report.dump(2) << '\n';
  else
    print_validate_report(report, a.db_path);
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
  add_launcher_option(cmd, a->launcher);
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
  cmd->add_flag(
      "--model", a->model,
      "the whole model's training step per schedule (the config's model section) against its prediction");
  cmd->add_option("--limit", a->limit, "validate K evenly spaced configurations of a grid")
      ->check(integer_in(1));
  add_selection_options(cmd, a->space);
  cmd->add_option("--repeat", a->repeat,
                  "measure each configuration K times, interleaved (round 1 runs every configuration, then "
                  "round 2, ...), and report the run-to-run spread (default 1)")
      ->check(integer_in(1));
  cmd->add_option("--timeout-ms", a->timeout_ms, "bound on every collective wait, in ms (default 60000)")
      ->check(integer_in(1));
  cmd->callback([a] {
    require_storable_db("validate", a->db_path);
    run_validate(*a);
  });
}

}  // namespace parm::cli
