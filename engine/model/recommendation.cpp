#include "engine/model/recommendation.h"

#include <cmath>
#include <cstdio>

#include "engine/schedules/schedule_registry.h"

namespace parm {
namespace {

std::string name_of(ScheduleKind k) {
  return std::string(to_string(k));
}

}  // namespace

const TimelinePrediction& Recommendation::of(ScheduleKind k) const {
  for (const auto& t : timelines)
    if (t.kind == k) return t;
  return timelines.front();
}

double Recommendation::speedup(ScheduleKind k) const {
  const double t = of(k).layer_ms;
  return t > 0 ? of(kSpeedupBaseline).layer_ms / t : 0.0;
}

Recommendation recommend(const Config& config, const Calibration& calib) {
  Recommendation p;
  p.config = config;
  p.sizes = derive_sizes(config);
  std::vector<std::pair<ScheduleKind, double>> times;
  for (ScheduleKind k : all_schedules()) {
    p.timelines.push_back(predict_timeline(config, p.sizes, calib, k));
    times.emplace_back(k, p.timelines.back().layer_ms);
  }
  p.chosen = select_by_time(times);
  return p;
}

std::string recommendation_reason(const Recommendation& p) {
  const ScheduleKind k = p.chosen;
  const auto& t = p.of(k);
  const auto& base = p.of(kSpeedupBaseline);
  const bool whole = has_whole_experts(p.sizes);
  char buf[256];
  std::string why = name_of(k) + ": ";
  why += spec_of(k).reason.of(whole);
  // The runner-up, and whether communication or compute separates them.
  const TimelinePrediction* second = nullptr;
  for (const auto& o : p.timelines)
    if (o.kind != k && (!second || o.layer_ms < second->layer_ms)) second = &o;
  if (second) {
    // The lead split into its two parts, each as time the chosen schedule saves (negative: it costs more),
    // so the parts add up to the lead and the decisive one is the larger saving.
    const double comm = (second->layer_ms - second->compute_ms) - (t.layer_ms - t.compute_ms);
    const double compute = second->compute_ms - t.compute_ms;
    std::snprintf(buf, sizeof buf,
                  "; lead over runner-up %s %.3f ms = exposed communication %+.3f ms + compute %+.3f ms "
                  "(decisive: %s)",
                  name_of(second->kind).c_str(), second->layer_ms - t.layer_ms, comm, compute,
                  comm >= compute ? "exposed communication" : "compute");
    why += buf;
  }
  if (k != kSpeedupBaseline) {
    double a2a = 0;
    for (const auto& c : base.terms)
      if (c.what.rfind("AlltoAll", 0) == 0) a2a += c.ms;
    std::snprintf(buf, sizeof buf,
                  "; B_DS pays 2 x AlltoAll of D0 per pass (%.3f ms in all; layer %.3f ms, x%.2f)", a2a,
                  base.layer_ms, p.speedup(k));
    why += buf;
  }
  return why;
}

nlohmann::json recommendation_layer_json(const Recommendation& p) {
  nlohmann::json times = nlohmann::json::object();
  for (const auto& t : p.timelines) times[name_of(t.kind)] = t.layer_ms;
  return {{"config", p.config.name},
          {"chosen", name_of(p.chosen)},
          {"predicted_ms", times},
          {"speedup_vs_B_DS", p.speedup(p.chosen)},
          {"reason", recommendation_reason(p)}};
}

nlohmann::json recommendation_json(const Recommendation& p, const Calibration& calib) {
  return {{"calibration", calib.id}, {"layers", nlohmann::json::array({recommendation_layer_json(p)})}};
}

}  // namespace parm
