#include "engine/model/run_comparison.h"

#include <algorithm>
#include <cmath>
#include <iterator>

#include "engine/core/config_json.h"
#include "engine/core/run_result.h"
#include "engine/model/collective_matching.h"
#include "engine/model/measured_best.h"
#include "engine/model/recommendation.h"
#include "engine/model/timeline_model.h"

namespace parm {
namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// The same rule as summarize's: MP and ESP groups stay inside a node, EP spans nodes (spec section 1).
bool is_inter_group(const std::string& group) {
  return group.rfind("EP", 0) == 0;
}

}  // namespace

MeasuredOps load_measured_ops(const db::Database& db, std::int64_t run) {
  return load_measured_ops(db, db.events(run));
}

MeasuredOps load_measured_ops(const db::Database& db, const std::vector<db::EventRow>& events) {
  const std::vector<CollectiveSplit> splits = split_collectives(events);
  MeasuredOps out;
  std::map<std::int32_t, std::string> names;
  auto str = [&](std::int32_t id) -> const std::string& {
    auto it = names.find(id);
    if (it == names.end()) it = names.emplace(id, db.string(id)).first;
    return it->second;
  };
  std::map<OpKey, std::uint32_t> index;
  for (std::size_t i = 0; i < events.size(); ++i) {
    const db::EventRow& e = events[i];
    if (e.iteration < 0) continue;  // warm-up
    OpKey key{str(e.schedule), e.phase, str(e.op), str(e.purpose)};
    auto it = index.find(key);
    if (it == index.end()) {
      it = index.emplace(key, static_cast<std::uint32_t>(out.keys.size())).first;
      out.keys.push_back(std::move(key));
    }
    out.intervals.push_back({it->second, e.iteration, e.rank, e.start_ns, e.end_ns, splits[i].wait_ns});
  }
  return out;
}

namespace {

// Per key, the slowest rank's summed duration per iteration, median over iterations, of the intervals `keep`
// accepts.
template <class Keep>
std::map<OpKey, double> aggregate_kept(const MeasuredOps& ops, Keep keep) {
  std::vector<std::map<int, std::map<int, double>>> sums(ops.keys.size());  // key -> iteration -> rank -> ms
  std::vector<bool> seen(ops.keys.size(), false);
  for (const MeasuredOps::Interval& iv : ops.intervals) {
    if (!keep(iv)) continue;
    sums[iv.key][iv.iteration][iv.rank] += 1e-6 * static_cast<double>(iv.end_ns - iv.start_ns);
    seen[iv.key] = true;
  }
  std::map<OpKey, double> out;
  for (std::size_t k = 0; k < ops.keys.size(); ++k) {
    if (!seen[k]) continue;
    std::vector<double> per_iteration;
    for (const auto& [it, ranks] : sums[k]) {
      double worst = 0;
      for (const auto& [r, ms] : ranks) worst = std::max(worst, ms);
      per_iteration.push_back(worst);
    }
    out[ops.keys[k]] = median(per_iteration);
  }
  return out;
}

bool overlaps(const MeasuredOps::Interval& iv, const TimeRange& range) {
  return iv.end_ns > range.start_ns && iv.start_ns < range.end_ns;
}

}  // namespace

std::map<OpKey, double> aggregate_measured_ops(const MeasuredOps& ops,
                                               const std::optional<TimeRange>& range) {
  return aggregate_kept(ops, [&](const MeasuredOps::Interval& iv) { return !range || overlaps(iv, *range); });
}

std::map<OpKey, double> aggregate_measured_ops(const MeasuredOps& ops, const ScheduleRanges& ranges) {
  std::vector<const TimeRange*> by_key(ops.keys.size(), nullptr);
  for (std::size_t k = 0; k < ops.keys.size(); ++k)
    if (const auto it = ranges.find(std::get<0>(ops.keys[k])); it != ranges.end()) by_key[k] = &it->second;
  return aggregate_kept(ops, [&](const MeasuredOps::Interval& iv) {
    return by_key[iv.key] != nullptr && overlaps(iv, *by_key[iv.key]);
  });
}

std::map<OpKey, double> measured_ops(const db::Database& db, std::int64_t run) {
  return aggregate_measured_ops(load_measured_ops(db, run));
}

std::string traced_name(std::string name) {
  std::replace(name.begin(), name.end(), '/', ':');
  static const char* collectives[] = {"AlltoAll", "AllGather", "ReduceScatter", "AllReduce", "GradAllReduce"};
  const std::size_t open = name.find('(');
  if (open != std::string::npos && std::find(std::begin(collectives), std::end(collectives),
                                             name.substr(0, open)) != std::end(collectives))
    name.erase(open);
  return name;
}

std::map<OpKey, double> predicted_ops(const db::Database& db, std::int64_t run) {
  std::map<OpKey, double> out;
  for (const db::EventRow& e : db.predictions(run))
    out[{db.string(e.schedule), e.phase, traced_name(db.string(e.op)), db.string(e.purpose)}] +=
        1e-6 * static_cast<double>(e.end_ns - e.start_ns);
  return out;
}

RunComparison compare_run(const db::Database& db, std::int64_t run) {
  const std::optional<db::RunInfo> info = db.run(run);
  if (!info) throw db::DbError(db.path() + ": no run " + std::to_string(run));
  RunComparison out;
  out.run = run;

  std::map<std::string, double> measured, predicted;
  std::map<std::string, Spread> spreads;
  if (!info->result_json.empty() && (info->kind == "measured" || info->kind == "nsys-import")) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(info->result_json);
    } catch (const nlohmann::json::exception&) {
      throw std::runtime_error(db.path() + ": run " + std::to_string(run) + ": result is not JSON");
    }
    const RunResult result = run_result_from_json(j);
    for (const ScheduleSummary& s : summarize(result)) measured[std::string(to_string(s.kind))] = s.total_ms;
    for (const auto& [kind, spread] : layer_time_spreads(result))
      spreads[std::string(to_string(kind))] = spread;
  }
  for (const db::EventRow& e : db.predictions(run)) {
    double& end = predicted[db.string(e.schedule)];
    end = std::max(end, 1e-6 * static_cast<double>(e.end_ns));
  }
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> bytes;  // intra, inter
  for (const db::CounterRow& c : db.counters(run)) {
    if (c.rank != 0) continue;
    auto& b = bytes[c.schedule];
    (is_inter_group(c.group) ? b.second : b.first) += c.bytes;
  }

  const auto bds = measured.find(std::string(to_string(kSpeedupBaseline)));
  const auto bds_spread = spreads.find(std::string(to_string(kSpeedupBaseline)));
  std::vector<std::pair<ScheduleKind, Spread>> meas_spreads;
  std::vector<std::pair<ScheduleKind, double>> pred_times;
  for (ScheduleKind k : every_schedule()) {
    const std::string name(to_string(k));
    const auto m = measured.find(name);
    const auto p = predicted.find(name);
    if (m == measured.end() && p == predicted.end()) continue;
    ScheduleComparison row;
    row.schedule = name;
    if (m != measured.end()) {
      row.measured_ms = m->second;
      if (bds != measured.end() && m->second > 0) row.speedup_vs_bds = bds->second / m->second;
      if (const auto sp = spreads.find(name); sp != spreads.end()) {
        row.measured_spread = sp->second;
        meas_spreads.emplace_back(k, sp->second);
        if (bds_spread != spreads.end()) row.speedup_spread = speedup_spread(bds_spread->second, sp->second);
      }
    }
    if (p != predicted.end()) {
      row.predicted_ms = p->second;
      pred_times.emplace_back(k, p->second);
    }
    if (row.measured_ms && row.predicted_ms && *row.measured_ms > 0)
      row.error_pct = 100.0 * std::abs(*row.predicted_ms - *row.measured_ms) / *row.measured_ms;
    if (const auto b = bytes.find(name); b != bytes.end()) {
      row.intra_bytes = b->second.first;
      row.inter_bytes = b->second.second;
    }
    out.schedules.push_back(row);
  }
  if (std::any_of(meas_spreads.begin(), meas_spreads.end(), [](const auto& s) { return s.second.n > 0; })) {
    const MeasuredBest best = measured_best(meas_spreads);
    out.measured_best = std::string(to_string(best.best));
    for (ScheduleKind k : best.tied) out.measured_tied.emplace_back(to_string(k));
  }
  if (!pred_times.empty()) out.predicted_best = std::string(to_string(select_with_margin(pred_times)));
  return out;
}

std::optional<nlohmann::json> validation_layer_for(const db::Database& db, std::int64_t run) {
  for (const db::RunInfo& r : db.runs()) {
    if (r.kind != "validation" || r.result_json.empty()) continue;
    const nlohmann::json report = nlohmann::json::parse(r.result_json, nullptr, false);
    if (!report.is_object() || !report.contains("layers") || !report["layers"].is_array()) continue;
    for (const nlohmann::json& layer : report["layers"])
      if (layer.is_object() && layer.value("measured_run", std::int64_t{0}) == run) {
        nlohmann::json out = layer;
        out["calibration"] = report.value("calibration", std::string());
        out["validation_run"] = r.id;
        return out;
      }
  }
  return std::nullopt;
}

nlohmann::json recommendation_from_validation(const nlohmann::json& report) {
  nlohmann::json layers = nlohmann::json::array();
  for (const nlohmann::json& layer : report.value("layers", nlohmann::json::array())) {
    nlohmann::json times = nlohmann::json::object();
    for (const nlohmann::json& s : layer.value("schedules", nlohmann::json::array()))
      times[s.value("schedule", std::string())] = s.value("predicted_ms", 0.0);
    const std::string chosen = layer.value("predicted_best", std::string());
    const double bds = times.value(std::string(to_string(kSpeedupBaseline)), 0.0),
                 mine = times.value(chosen, 0.0);
    nlohmann::json out{{"config", layer.value("config", std::string())},
                       {"chosen", chosen},
                       {"predicted_ms", times},
                       {"speedup_vs_B_DS", mine > 0 ? bds / mine : 0.0},
                       {"measured_best", layer.value("measured_best", std::string())}};
    if (layer.contains("reason")) out["reason"] = layer["reason"];
    if (layer.contains("measured_run")) out["measured_run"] = layer["measured_run"];
    layers.push_back(out);
  }
  return {{"calibration", report.value("calibration", std::string())}, {"layers", layers}};
}

nlohmann::json recommendation_for_run(const db::Database& db, std::int64_t run, const Calibration* calib) {
  const std::optional<db::RunInfo> info = db.run(run);
  if (!info) throw std::runtime_error(db.path() + ": no run " + std::to_string(run));
  if (info->kind == "validation") {
    const nlohmann::json report = nlohmann::json::parse(info->result_json, nullptr, false);
    if (!report.is_object())
      throw std::runtime_error("run " + std::to_string(run) + ": the validation report is not JSON");
    nlohmann::json out = recommendation_from_validation(report);
    out["source"] = "validation run " + std::to_string(run);
    return out;
  }
  if (const auto layer = validation_layer_for(db, run)) {
    nlohmann::json out = recommendation_from_validation(
        {{"calibration", (*layer)["calibration"]}, {"layers", nlohmann::json::array({*layer})}});
    out["source"] = "validation run " + std::to_string((*layer)["validation_run"].get<std::int64_t>());
    return out;
  }
  if (!calib)
    throw std::runtime_error(
        "run " + std::to_string(run) +
        " has no validation report: choose a calibration file to compute the recommendation");
  const ConfigLoad load = config_from_json_text(info->config_json);
  if (!load.config)
    throw std::runtime_error("run " + std::to_string(run) + ": its configuration does not load");
  if (auto why = calibration_mismatch(*calib, *load.config)) throw std::runtime_error(*why);
  nlohmann::json out = recommendation_json(recommend(*load.config, *calib), *calib);
  out["source"] = "computed with calibration " + calib->id;
  return out;
}

}  // namespace parm
