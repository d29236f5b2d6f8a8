#include "engine/cli/validate_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <stdexcept>

#include "engine/cli/spread_format.h"
#include "engine/model/recommendation.h"
#include "engine/model/repeated_runs.h"

namespace parm::cli {
namespace {

std::string name_of(ScheduleKind k) {
  return std::string(to_string(k));
}

double pct_error(double predicted, double measured) {
  return measured > 0 ? 100.0 * std::abs(predicted - measured) / measured : 0.0;
}

nlohmann::json names(const std::vector<ScheduleKind>& kinds) {
  nlohmann::json out = nlohmann::json::array();
  for (ScheduleKind k : kinds) out.push_back(name_of(k));
  return out;
}

Spread spread_from_json(const nlohmann::json& j) {
  Spread s;
  if (!j.is_object()) return s;
  s.p10 = j.value("p10", 0.0);
  s.p50 = j.value("p50", 0.0);
  s.p90 = j.value("p90", 0.0);
  s.n = j.value("n", std::size_t{0});
  return s;
}

}  // namespace

nlohmann::json validate_layer_json(const std::string& name, const std::vector<RunResult>& runs,
                                   const std::vector<TimelinePrediction>& predictions) {
  const std::map<ScheduleKind, RepeatedSchedule> measured = aggregate_runs(runs);
  std::vector<std::pair<ScheduleKind, double>> predicted;
  for (const TimelinePrediction& t : predictions) {
    if (!measured.count(t.kind))
      throw std::runtime_error("the run" + std::string(runs.size() > 1 ? "s" : "") + " of " + name +
                               " have no result for " + name_of(t.kind));
    predicted.emplace_back(t.kind, t.layer_ms);
  }
  const auto bds = measured.find(kSpeedupBaseline);
  nlohmann::json schedules = nlohmann::json::array();
  double sum_err = 0, layer_max = 0, fastest = 0, sum_range = 0, max_range = 0;
  bool first = true;
  for (const auto& [kind, p] : predicted) {
    const RepeatedSchedule& m = measured.at(kind);
    const double err = pct_error(p, m.measured_ms);
    sum_err += err;
    layer_max = std::max(layer_max, err);
    fastest = first ? m.measured_ms : std::min(fastest, m.measured_ms);
    first = false;
    sum_range += m.relative_range;
    max_range = std::max(max_range, m.relative_range);
    const double bds_ms = bds != measured.end() ? bds->second.measured_ms : 0.0;
    schedules.push_back({{"schedule", name_of(kind)},
                         {"measured_ms", m.measured_ms},
                         {"measured_ms_spread", spread_json(m.pooled)},
                         {"runs",
                          {{"medians_ms", m.run_medians_ms},
                           {"min", m.run_to_run.min},
                           {"median", m.run_to_run.p50},
                           {"max", m.run_to_run.max},
                           {"relative_range", m.relative_range}}},
                         {"predicted_ms", p},
                         {"error_pct", err},
                         {"measured_speedup_vs_B_DS", m.measured_ms > 0 ? bds_ms / m.measured_ms : 0.0}});
  }
  const double count = static_cast<double>(predicted.size());
  const ScheduleKind pred_best = select_with_margin(predicted);
  std::map<ScheduleKind, RepeatedSchedule> compared;  // the predicted schedules only
  for (const auto& [kind, p] : predicted) compared[kind] = measured.at(kind);
  const MeasuredBest best = measured_best_of(compared);
  const bool right = std::find(best.tied.begin(), best.tied.end(), pred_best) != best.tied.end();
  const double regret = fastest > 0 ? std::max(0.0, compared.at(pred_best).measured_ms / fastest - 1.0) : 0.0;
  return {
      {"config", name},
      {"repeat", runs.size()},
      {"schedules", schedules},
      {"mean_error_pct", count > 0 ? sum_err / count : 0.0},
      {"max_error_pct", layer_max},
      {"predicted_best", name_of(pred_best)},
      {"measured_best", name_of(best.best)},
      {"measured_fastest", name_of(best.fastest)},
      {"measured_tied", names(best.tied)},
      {"tie", best.tie()},
      {"correct", right},
      {"correct_by_tie", right && pred_best != best.fastest},
      {"regret", regret},
      {"run_to_run",
       {{"mean_relative_range", count > 0 ? sum_range / count : 0.0}, {"max_relative_range", max_range}}}};
}

SelectionTally selection_tally(const nlohmann::json& layers) {
  SelectionTally t;
  for (const nlohmann::json& layer : layers) {
    ++t.layers;
    t.correct += layer.value("correct", false);
    t.ties += layer.value("tie", false);
    t.correct_by_tie += layer.value("correct_by_tie", false);
  }
  return t;
}

std::string measured_best_rule(std::int64_t repeat, std::int64_t iterations) {
  const std::string samples = repeat > 1 ? "all " + std::to_string(repeat) + " runs x " +
                                               std::to_string(iterations) + " iterations pooled"
                                         : std::to_string(iterations) + " iterations";
  return "tied within noise: the p10-p90 of the layer time over " + samples +
         " (slowest rank per iteration) overlaps the fastest median's; a tie with B_DS keeps B_DS";
}

namespace {

void print_layer(const nlohmann::json& layer, bool repeated) {
  std::string tied;
  if (layer["measured_tied"].size() > 1) {
    for (const auto& t : layer["measured_tied"]) tied += (tied.empty() ? "" : ", ") + t.get<std::string>();
    tied = " (tied within noise: " + tied +
           (layer["measured_best"] == "B_DS" ? "; nothing beats B_DS" : "; the registry order picks") + ")";
  }
  const char* right = !layer["correct"].get<bool>()          ? ""
                      : layer.value("correct_by_tie", false) ? " (right, thanks to the tie)"
                                                             : " (right)";
  std::printf("\n%s: predicted best %s, measured best %s%s%s, regret %.1f%%\n",
              layer["config"].get<std::string>().c_str(), layer["predicted_best"].get<std::string>().c_str(),
              layer["measured_best"].get<std::string>().c_str(), tied.c_str(), right,
              100.0 * layer["regret"].get<double>());
  std::printf("%-6s %22s %13s %8s %9s%s\n", "sched", "measured ms [p10-p90]", "predicted ms", "error",
              "vs B_DS", repeated ? "   runs' medians min-max (range)" : "");
  for (const auto& s : layer["schedules"]) {
    std::string runs;
    if (repeated) {
      const auto& r = s["runs"];
      char buf[96];
      std::snprintf(buf, sizeof buf, "   %.3f-%.3f (%.1f%%)", r["min"].get<double>(), r["max"].get<double>(),
                    100.0 * r["relative_range"].get<double>());
      runs = buf;
    }
    Spread shown = spread_from_json(s["measured_ms_spread"]);
    shown.p50 = s["measured_ms"].get<double>();  // the value errors use: the median of the runs' medians
    std::printf("%-6s %22s %13.3f %7.1f%% %8.2fx%s%s\n", s["schedule"].get<std::string>().c_str(),
                format_spread_ms(shown).c_str(), s["predicted_ms"].get<double>(),
                s["error_pct"].get<double>(), s["measured_speedup_vs_B_DS"].get<double>(), runs.c_str(),
                s["schedule"] == layer["predicted_best"] ? "  <- recommended" : "");
  }
  std::printf("layer error: mean %.1f%%, max %.1f%%\n", layer["mean_error_pct"].get<double>(),
              layer["max_error_pct"].get<double>());
  if (layer.contains("reason"))
    std::printf("recommendation: %s\n", layer["reason"].get<std::string>().c_str());
}

}  // namespace

void print_validate_report(const nlohmann::json& report, const std::string& db_path) {
  const nlohmann::json& layers = report["layers"];
  const std::int64_t repeat = report.value("repeat", std::int64_t{1});
  for (const auto& layer : layers) print_layer(layer, repeat > 1);
  const SelectionTally t = selection_tally(layers);
  const auto plural = [](int n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  std::printf(
      "\n%zu configuration%s on %lld ranks: layer time error mean %.1f%%, max %.1f%%; regret mean %.1f%%, "
      "max %.1f%%\n",
      layers.size(), layers.size() == 1 ? "" : "s", (long long)report["ranks"].get<std::int64_t>(),
      report["mean_error_pct"].get<double>(), report["max_error_pct"].get<double>(),
      100.0 * report["regret"]["mean"].get<double>(), 100.0 * report["regret"]["max"].get<double>());
  std::printf("selection accuracy %.0f%% (%d/%d): %s a tie, %s right only thanks to a tie\n",
              100.0 * t.accuracy(), t.correct, t.layers,
              plural(t.ties, "measured best was", "measured bests were").c_str(),
              plural(t.correct_by_tie, "choice", "choices").c_str());
  std::printf("measured best: %s\n", report.value("measured_best_rule", std::string()).c_str());
  if (report.contains("worst_ops") && !report["worst_ops"].empty()) {
    std::printf("largest per-op errors (median over iterations, slowest rank%s):\n",
                repeat > 1 ? ", median over the runs" : "");
    for (const auto& w : report["worst_ops"])
      std::printf("  %-28s %-4s %-3s %-22s %-16s measured %8.3f ms, predicted %8.3f ms (%+.3f)\n",
                  w["config"].get<std::string>().c_str(), w["schedule"].get<std::string>().c_str(),
                  w["phase"].get<std::string>().c_str(), w["op"].get<std::string>().c_str(),
                  w["purpose"].get<std::string>().c_str(), w["measured_ms"].get<double>(),
                  w["predicted_ms"].get<double>(), w["error_ms"].get<double>());
  }
  if (report.contains("run"))
    std::printf("stored as run %lld (kind validation) in %s\n", (long long)report["run"].get<std::int64_t>(),
                db_path.c_str());
  const nlohmann::json& r2r = report["run_to_run"];
  if (repeat > 1)
    std::printf(
        "run-to-run spread over %lld runs: (max - min) / median of the runs' medians, mean %.1f%%, max "
        "%.1f%% over the schedules\n",
        (long long)repeat, 100.0 * r2r["mean_relative_range"].get<double>(),
        100.0 * r2r["max_relative_range"].get<double>());
  else
    std::printf("run-to-run spread: not measured (one run per configuration; --repeat K measures it)\n");
}

}  // namespace parm::cli
