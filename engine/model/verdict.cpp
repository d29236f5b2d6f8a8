#include "engine/model/verdict.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "engine/core/config_json.h"

namespace parm {
namespace {

std::string fmt(const char* format, double a, double b = 0) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, a, b);
  return buf;
}

// The calibration `id` as the project stores it (a run of kind "calibration"), into `scope`.
void find_calibration(const db::Database& db, const std::string& id, VerdictScope& scope,
                      std::string& cluster) {
  scope.calibration_id = id;
  for (const db::RunInfo& r : db.runs()) {
    if (r.kind != "calibration" || r.result_json.empty()) continue;
    const nlohmann::json c = nlohmann::json::parse(r.result_json, nullptr, false);
    if (!c.is_object() || c.value("id", std::string()) != id) continue;
    scope.calibration_run = r.id;
    scope.calibration_created = c.value("created_at", std::string());
    cluster = c.value("cluster", std::string());
    return;
  }
  // Not stored in this project: the id names its creation time ("calib-2026-11-27T23:10:00Z-default").
  std::smatch m;
  static const std::regex stamp(R"((\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d)?Z?))");
  if (std::regex_search(id, m, stamp)) scope.calibration_created = m[1];
}

}  // namespace

std::int64_t measured_run_of(const db::RunInfo& info) {
  if (info.kind != "validation") return info.id;
  const nlohmann::json report = nlohmann::json::parse(info.result_json, nullptr, false);
  if (report.is_object() && report.contains("layers") && report["layers"].is_array() &&
      !report["layers"].empty() && report["layers"][0].is_object())
    return report["layers"][0].value("measured_run", info.id);
  return info.id;
}

const ScheduleVerdict* Verdict::of(const std::string& schedule) const {
  for (const ScheduleVerdict& s : schedules)
    if (s.schedule == schedule) return &s;
  return nullptr;
}

std::string short_time(const std::string& iso) {
  static const std::regex re(R"((\d{4}-\d\d-\d\d)T(\d\d:\d\d).*)");
  std::smatch m;
  return std::regex_match(iso, m, re) ? m[1].str() + " " + m[2].str() : iso;
}

Verdict verdict_for_run(const db::Database& db, std::int64_t run) {
  const std::optional<db::RunInfo> asked = db.run(run);
  if (!asked) throw db::DbError(db.path() + ": no run " + std::to_string(run));
  run = measured_run_of(*asked);
  return verdict_for_run(db, run, compare_run(db, run));
}

Verdict verdict_for_run(const db::Database& db, std::int64_t run, const RunComparison& c) {
  const std::optional<db::RunInfo> info = db.run(run);
  if (!info) throw db::DbError(db.path() + ": no run " + std::to_string(run));
  Verdict v;
  v.run = run;
  for (const ScheduleComparison& s : c.schedules) {
    v.schedules.push_back({s.schedule, s.measured_spread, s.speedup_spread, s.predicted_ms});
    v.scope.iterations = std::max<std::int64_t>(v.scope.iterations, std::int64_t(s.measured_spread.n));
  }
  v.measured_best = c.measured_best;
  v.measured_tied = c.measured_tied;

  const std::optional<nlohmann::json> layer = validation_layer_for(db, run);
  if (c.predicted_best) {
    v.predicted_best = c.predicted_best;
    v.predicted_source = "stored predictions";
  } else if (layer && layer->contains("predicted_best")) {
    v.predicted_best = layer->value("predicted_best", std::string());
    v.predicted_source = "validation run " + std::to_string(layer->value("validation_run", std::int64_t{0}));
  }

  VerdictScope& s = v.scope;
  s.backend = info->backend;
  s.run_started_at = info->started_at;
  if (const ConfigLoad load = config_from_json_text(info->config_json); load.config) {
    const ParallelConfig& p = load.config->parallel;
    s.mp = p.mp;
    s.esp = p.esp;
    s.ep = p.ep();
    s.ranks = p.ranks;
    s.nodes = p.nodes();
    s.ranks_per_node = p.gpus_per_node;
  }
  if (s.ranks == 0) s.ranks = info->ranks;
  std::set<std::string> hosts;
  for (const db::RankInfo& r : db.ranks(run)) hosts.insert(r.host);
  s.hosts = static_cast<int>(hosts.size());
  std::string cluster;
  if (layer) find_calibration(db, layer->value("calibration", std::string()), s, cluster);
  if (!cluster.empty())
    s.link = "emulated cluster " + cluster;
  else if (s.hosts <= 1)
    s.link = "local shared memory" + (s.backend.empty() || s.backend == "cpu" ? "" : " (" + s.backend + ")");
  else
    s.link = (s.backend.empty() ? std::string("network") : s.backend) + " across " + std::to_string(s.hosts) +
             " hosts";
  return v;
}

std::string verdict_summary(const Verdict& v) {
  std::string out;
  const std::string baseline(to_string(kSpeedupBaseline));
  if (!v.measured_best) {
    out = "no measured times in run " + std::to_string(v.run);
  } else {
    const std::string& best = *v.measured_best;
    const ScheduleVerdict* b = v.of(best);
    const bool baseline_measured = v.of(baseline) && v.of(baseline)->layer_ms.n > 0;
    std::string speedup;  // "1.42x faster than B_DS (p10-p90 1.31-1.50x)"
    if (baseline_measured && best != baseline && b && b->speedup.n > 0) {
      speedup =
          fmt("%.2fx ", b->speedup.p50) + (b->speedup.p50 >= 1 ? "faster than " : "the speed of ") + baseline;
      speedup += b->layer_ms.n > 1 ? fmt(" (p10-p90 %.2f-%.2fx)", b->speedup.p10, b->speedup.p90)
                                   : std::string(" (one iteration: no spread)");
    }
    if (v.tie() && best == baseline) {
      // The baseline is among the tied: no schedule is measurably faster, whatever the medians say.
      std::string others;
      for (const std::string& t : v.measured_tied)
        if (t != best) others += (others.empty() ? "" : ", ") + t;
      out = "Measured: no schedule beats " + baseline + " beyond noise (tied within noise: " + others + ")";
    } else if (v.tie()) {
      // No clear winner among the others: say so, and that the pick is the registry's preference.
      std::string others;
      for (const std::string& t : v.measured_tied)
        if (t != best) others += (others.empty() ? "" : ", ") + t;
      out = "Measured best " + best + ", tied within noise with " + others + " (the registry order picks)";
      if (!speedup.empty()) out += ": " + speedup;
    } else {
      out = "Measured best " + best + ": ";
      if (!baseline_measured)
        out += baseline + " not measured, no speedup";
      else if (best == baseline)
        out += "no schedule is faster than " + baseline;
      else
        out += speedup;
    }
  }
  out +=
      " \u00b7 " + (v.predicted_best ? "predicted best " + *v.predicted_best : std::string("no prediction"));
  const VerdictScope& s = v.scope;
  out += " \u00b7 for N_MP " + std::to_string(s.mp) + ", N_ESP " + std::to_string(s.esp) + ", N_EP " +
         std::to_string(s.ep) + " (" + std::to_string(s.ranks) + " ranks)";
  if (s.nodes > 0) {
    out += " on " + std::to_string(s.nodes) + (s.nodes == 1 ? " node" : " nodes");
    if (s.nodes > 1) out += " x " + std::to_string(s.ranks_per_node) + " ranks";
    if (s.nodes > 1 && s.hosts == 1) out += " (virtual, one host)";
  }
  if (!s.link.empty()) out += ", " + s.link;
  if (s.calibration_id.empty())
    out += ", no calibration";
  else
    out += ", calibration " +
           (s.calibration_run > 0 ? "#" + std::to_string(s.calibration_run) : s.calibration_id) +
           (s.calibration_created.empty() ? "" : " of " + short_time(s.calibration_created));
  out += " \u00b7 run " + std::to_string(v.run);
  if (!s.run_started_at.empty()) out += " of " + short_time(s.run_started_at);
  out += ", " + std::to_string(s.iterations) + (s.iterations == 1 ? " iteration" : " iterations");
  return out;
}

}  // namespace parm
