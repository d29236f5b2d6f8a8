#include "engine/model/recommendation.h"

#include <cmath>
#include <cstdio>

#include "engine/schedules/chunk_plan.h"
#include "engine/schedules/schedule_registry.h"

namespace parm {
namespace {

std::string name_of(ScheduleKind k) {
  return std::string(to_string(k));
}

// The message counts of one AlltoAll per rank, flat against 2DH (what decides between them).
std::string message_counts(const ParallelConfig& parallel) {
  const AlltoAllMessages flat = alltoall_messages(parallel, AlltoAllAlgorithm::Flat);
  const AlltoAllMessages hier = alltoall_messages(parallel, AlltoAllAlgorithm::Hierarchical);
  char buf[256];
  std::snprintf(
      buf, sizeof buf,
      "per AlltoAll a rank sends %lld inter-node message%s of %lld block%s (2DH) instead of %lld of "
      "1 (flat), for %lld intra-node exchange%s more and two local transposes",
      (long long)hier.inter_node, hier.inter_node == 1 ? "" : "s", (long long)hier.inter_node_blocks,
      hier.inter_node_blocks == 1 ? "" : "s", (long long)flat.inter_node,
      (long long)(hier.total - hier.inter_node), hier.total - hier.inter_node == 1 ? "" : "s");
  return buf;
}

}  // namespace

std::vector<ScheduleKind> SelectionSpace::candidates(const ParallelConfig& parallel) const {
  return widen(all_schedules(), parallel);
}

std::vector<ScheduleKind> SelectionSpace::widen(const std::vector<ScheduleKind>& kinds,
                                                const ParallelConfig& parallel) const {
  std::vector<AlltoAllAlgorithm> offered;
  for (AlltoAllAlgorithm a : algorithms)
    if (a == AlltoAllAlgorithm::Flat || hierarchical_alltoall_applies(parallel)) offered.push_back(a);
  if (offered.empty()) offered.push_back(AlltoAllAlgorithm::Flat);
  return with_variants(kinds, degrees, offered, separate_degrees);
}

const TimelinePrediction& Recommendation::of(ScheduleKind k) const {
  for (const auto& t : timelines)
    if (t.kind == k) return t;
  return timelines.front();
}

double Recommendation::speedup(ScheduleKind k) const {
  const double t = of(k).layer_ms;
  return t > 0 ? of(kSpeedupBaseline).layer_ms / t : 0.0;
}

double Recommendation::speedup_vs_parm(ScheduleKind k) const {
  const double t = of(k).layer_ms;
  return t > 0 ? of(parm_best).layer_ms / t : 0.0;
}

int Recommendation::best_degree(Direction d) const {
  const ScheduleKind base = base_of(chosen);
  const AlltoAllAlgorithm algorithm = spec_of(chosen).alltoall;
  const auto degree_of = [&](ScheduleKind k) {
    const ScheduleSpec::Degrees g = spec_of(k).pipeline_degree;
    return d == Direction::Forward ? g.forward : g.backward;
  };
  int best = degree_of(chosen);
  double best_ms = -1;
  for (const auto& t : timelines) {
    if (base_of(t.kind) != base || spec_of(t.kind).alltoall != algorithm) continue;
    const double ms = d == Direction::Forward ? t.forward_ms : t.backward_ms;
    if (best_ms < 0 || ms < best_ms - 1e-9) {
      best_ms = ms;
      best = degree_of(t.kind);
    }
  }
  return best;
}

double Recommendation::separate_degrees_ms() const {
  const ScheduleKind base = base_of(chosen);
  const AlltoAllAlgorithm algorithm = spec_of(chosen).alltoall;
  const int f = best_degree(Direction::Forward), b = best_degree(Direction::Backward);
  const auto in_space = [&](const ScheduleSpec* v) {
    for (const auto& t : timelines)
      if (v && t.kind == v->kind) return true;
    return false;
  };
  if (const ScheduleSpec* both = schedule_variant(base, {f, b}, algorithm); in_space(both))
    return of(both->kind).layer_ms;
  // A space without that pair (a run's schedules): the two passes of the same-degree options.
  const auto at = [&](int r) -> const TimelinePrediction& {
    const ScheduleSpec* v = schedule_variant(base, r, algorithm);
    return of(in_space(v) ? v->kind : chosen);
  };
  return at(f).forward_ms + at(b).backward_ms;
}

// A pipelined variant has to beat the best r = 1 schedule by kPipelinedMargin: its prediction rests on one
// layer's measured chunk residual and errs more (BENCHMARKS.md, issue 19), and a marginal gain on paper is
// not worth trading a known schedule for.
ScheduleKind select_with_margin(const std::vector<std::pair<ScheduleKind, double>>& times) {
  std::vector<std::pair<ScheduleKind, double>> plain, pipelined;
  for (const auto& t : times) (spec_of(t.first).base.empty() ? plain : pipelined).push_back(t);
  if (plain.empty() || pipelined.empty()) return select_by_time(times);
  const ScheduleKind unpipelined = select_by_time(plain), best = select_by_time(pipelined);
  const auto ms = [&](ScheduleKind k) {
    for (const auto& t : times)
      if (t.first == k) return t.second;
    return 0.0;
  };
  return ms(best) < (1.0 - kPipelinedMargin) * ms(unpipelined) ? best : unpipelined;
}

Recommendation recommend(const Config& config, const Calibration& calib, const SelectionSpace& space) {
  Recommendation p;
  p.config = config;
  p.sizes = derive_sizes(config);
  std::vector<std::pair<ScheduleKind, double>> times;
  std::vector<std::pair<ScheduleKind, double>> parm_times;
  for (ScheduleKind k : space.candidates(config.parallel)) {
    p.timelines.push_back(predict_timeline(config, p.sizes, calib, k));
    times.emplace_back(k, p.timelines.back().layer_ms);
    const ScheduleSpec& spec = spec_of(k);
    if (spec.family == ScheduleFamily::Parm && spec.base.empty())
      parm_times.emplace_back(k, times.back().second);
  }
  if (parm_times.empty())  // Parm's schedules at r = 1 are the reference even when the space leaves them out
    for (ScheduleKind k : all_schedules())
      if (spec_of(k).family == ScheduleFamily::Parm) {
        p.timelines.push_back(predict_timeline(config, p.sizes, calib, k));
        parm_times.emplace_back(k, p.timelines.back().layer_ms);
      }
  p.chosen = select_with_margin(times);
  p.parm_best = select_by_time(parm_times);
  return p;
}

std::string recommendation_reason(const Recommendation& p) {
  const ScheduleKind k = p.chosen;
  const auto& t = p.of(k);
  const auto& base = p.of(kSpeedupBaseline);
  const bool whole = has_whole_experts(p.sizes);
  char buf[512];
  std::string why = name_of(k) + ": ";
  why += spec_of(k).reason.of(whole);
  const ScheduleKind base_kind = base_of(k);
  if (base_kind != k) {
    // What the chunks (or 2DH) change against the same schedule unpipelined and flat: exposed communication
    // they hide, compute (and latency) their smaller calls add.
    const TimelinePrediction& plain = p.of(base_kind);
    std::snprintf(buf, sizeof buf,
                  "; against %s at r = 1: exposed communication %.3f -> %.3f ms, compute %.3f -> %.3f ms",
                  name_of(base_kind).c_str(), plain.layer_ms - plain.compute_ms, t.layer_ms - t.compute_ms,
                  plain.compute_ms, t.compute_ms);
    why += buf;
  }
  // Where the space held both AlltoAll algorithms of the chosen option: the message counts, and the time
  // each gives.
  const ScheduleSpec& spec = spec_of(k);
  const AlltoAllAlgorithm other_algorithm =
      spec.alltoall == AlltoAllAlgorithm::Flat ? AlltoAllAlgorithm::Hierarchical : AlltoAllAlgorithm::Flat;
  const ScheduleSpec* twin = schedule_variant(base_kind, spec.pipeline_degree, other_algorithm);
  const auto in_space = [&](const ScheduleSpec* s) {
    for (const auto& o : p.timelines)
      if (s && o.kind == s->kind) return true;
    return false;
  };
  // Degrees picked apart: each pass against itself at the other pass's degree, where the space has them.
  const ScheduleSpec::Degrees g = spec.pipeline_degree;
  if (g.forward != g.backward) {
    const ScheduleSpec* fwd_both = schedule_variant(base_kind, g.forward, spec.alltoall);
    const ScheduleSpec* bwd_both = schedule_variant(base_kind, g.backward, spec.alltoall);
    if (in_space(fwd_both) && in_space(bwd_both)) {
      std::snprintf(buf, sizeof buf,
                    "; the passes want different degrees: forward %.3f ms at r = %d (%.3f ms at r = %d), "
                    "backward %.3f ms at r = %d (%.3f ms at r = %d)",
                    t.forward_ms, g.forward, p.of(bwd_both->kind).forward_ms, g.backward, t.backward_ms,
                    g.backward, p.of(fwd_both->kind).backward_ms, g.forward);
      why += buf;
    }
  }
  if (!in_space(twin)) {  // a fused choice has no 2DH twin: the fastest 2DH option of the space instead
    twin = nullptr;
    for (const auto& o : p.timelines)
      if (spec_of(o.kind).alltoall == other_algorithm && (!twin || o.layer_ms < p.of(twin->kind).layer_ms))
        twin = &spec_of(o.kind);
  }
  if (twin) {
    std::snprintf(buf, sizeof buf, "; %s: %s; %s %.3f ms against %s %.3f ms",
                  spec.alltoall == AlltoAllAlgorithm::Hierarchical ? "2DH pays" : "2DH does not pay",
                  message_counts(p.config.parallel).c_str(), name_of(k).c_str(), t.layer_ms,
                  std::string(twin->name).c_str(), p.of(twin->kind).layer_ms);
    why += buf;
  }
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
  nlohmann::json out{{"config", p.config.name},
                     {"chosen", name_of(p.chosen)},
                     {"predicted_ms", times},
                     {"speedup_vs_B_DS", p.speedup(p.chosen)},
                     {"reason", recommendation_reason(p)}};
  const ScheduleSpec& chosen = spec_of(p.chosen);
  out["schedule"] = std::string(chosen.base.empty() ? chosen.name : chosen.base);
  out["alltoall"] = std::string(to_string(chosen.alltoall));
  out["pipeline_degree"] = {{"forward", chosen.pipeline_degree.forward},
                            {"backward", chosen.pipeline_degree.backward}};
  out["parm_best"] = name_of(p.parm_best);
  out["speedup_vs_parm_best"] = p.speedup_vs_parm(p.chosen);
  out["separate_degrees"] = {{"forward", p.best_degree(Direction::Forward)},
                             {"backward", p.best_degree(Direction::Backward)},
                             {"predicted_ms", p.separate_degrees_ms()}};
  return out;
}

nlohmann::json recommendation_json(const Recommendation& p, const Calibration& calib) {
  return {{"calibration", calib.id}, {"layers", nlohmann::json::array({recommendation_layer_json(p)})}};
}

}  // namespace parm
