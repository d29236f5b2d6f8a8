// Prints what `parm validate` and `parm calibrate` stored, in the shape they printed it when they ran.
#include "engine/cli/stored_reports.h"

#include <cstdio>
#include <iostream>
#include <stdexcept>
#include <string>

namespace parm::cli {

void print_run_line(const db::RunInfo& run) {
  std::printf("run %lld: %s, %s, %d ranks, backend %s, started %s, %s\n", (long long)run.id, run.name.c_str(),
              run.kind.c_str(), run.ranks, run.backend.c_str(), run.started_at.c_str(),
              run.complete ? "complete" : "incomplete (the run was killed or is still writing)");
}

nlohmann::json run_header_json(const db::RunInfo& run) {
  return {{"id", run.id},
          {"name", run.name},
          {"kind", run.kind},
          {"backend", run.backend},
          {"ranks", run.ranks},
          {"complete", run.complete},
          {"started_at", run.started_at}};
}

namespace {

template <typename T>
T field(const nlohmann::json& j, const char* key, T fallback) {
  const auto it = j.find(key);
  return it != j.end() && !it->is_null() ? it->get<T>() : fallback;
}

}  // namespace

void print_validation_report(const db::RunInfo& run, const nlohmann::json& report, bool json) {
  if (!report.is_object() || !report.contains("layers") || !report["layers"].is_array())
    throw std::runtime_error("run " + std::to_string(run.id) + " is a validation run without a report");
  if (json) {
    nlohmann::json out = run_header_json(run);
    out["report"] = report;
    std::cout << out.dump(2) << '\n';
    return;
  }
  print_run_line(run);
  std::printf("calibration %s; %d configuration%s\n", field<std::string>(report, "calibration", "-").c_str(),
              static_cast<int>(report["layers"].size()), report["layers"].size() == 1 ? "" : "s");
  for (const nlohmann::json& layer : report["layers"]) {
    const std::string chosen = field<std::string>(layer, "predicted_best", "-");
    const std::int64_t measured_run = field<std::int64_t>(layer, "measured_run", 0);
    std::printf("\n%s: chosen (predicted best) %s, measured best %s, regret %.1f%%, measured run %s\n",
                field<std::string>(layer, "config", "?").c_str(), chosen.c_str(),
                field<std::string>(layer, "measured_best", "-").c_str(),
                100.0 * field<double>(layer, "regret", 0.0),
                measured_run > 0 ? std::to_string(measured_run).c_str() : "-");
    std::printf("%-6s %12s %13s %8s\n", "sched", "predicted ms", "measured ms", "error");
    for (const nlohmann::json& s : layer.value("schedules", nlohmann::json::array())) {
      const std::string name = field<std::string>(s, "schedule", "?");
      std::printf("%-6s %12.3f %13.3f %7.1f%%%s\n", name.c_str(), field<double>(s, "predicted_ms", 0.0),
                  field<double>(s, "measured_ms", 0.0), field<double>(s, "error_pct", 0.0),
                  name == chosen ? "  <- chosen" : "");
    }
    std::printf("layer error: mean %.1f%%, max %.1f%%\n", field<double>(layer, "mean_error_pct", 0.0),
                field<double>(layer, "max_error_pct", 0.0));
  }
  const nlohmann::json regret = report.value("regret", nlohmann::json::object());
  std::printf(
      "\nlayer time error mean %.1f%%, max %.1f%%; selection accuracy %.0f%%; regret mean %.1f%%, "
      "max %.1f%%\n",
      field<double>(report, "mean_error_pct", 0.0), field<double>(report, "max_error_pct", 0.0),
      100.0 * field<double>(report, "selection_accuracy", 0.0), 100.0 * field<double>(regret, "mean", 0.0),
      100.0 * field<double>(regret, "max", 0.0));
  if (report.contains("measured_ties"))  // reports before issue 17 did not count them
    std::printf("measured best ties: %lld layer(s); right only thanks to a tie: %lld\n",
                (long long)field<std::int64_t>(report, "measured_ties", 0),
                (long long)field<std::int64_t>(report, "correct_by_tie", 0));
}

void print_calibration_fits(const db::Database& d, const db::RunInfo& run, bool json) {
  const std::vector<db::CalibrationRow> fits = d.calibrations(run.id);
  if (json) {
    nlohmann::json rows = nlohmann::json::array();
    for (const db::CalibrationRow& f : fits)
      rows.push_back({{"op", f.op},
                      {"communicator", f.communicator},
                      {"alpha_s", f.alpha_s},
                      {"beta_s_per_unit", f.beta_s_per_byte},
                      {"r2", f.r2},
                      {"samples", f.samples}});
    nlohmann::json out = run_header_json(run);
    out["fits"] = rows;
    std::cout << out.dump(2) << '\n';
    return;
  }
  print_run_line(run);
  if (fits.empty()) {
    std::printf("no fits stored for this run\n");
    return;
  }
  std::printf("%-28s %-6s %12s %14s %7s %8s\n", "op", "comm", "alpha us", "beta ns/unit", "r2", "samples");
  for (const db::CalibrationRow& f : fits)
    std::printf("%-28s %-6s %12.3f %14.6f %7.3f %8lld\n", f.op.c_str(), f.communicator.c_str(),
                f.alpha_s * 1e6, f.beta_s_per_byte * 1e9, f.r2, (long long)f.samples);
}

}  // namespace parm::cli
