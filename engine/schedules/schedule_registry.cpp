#include "engine/schedules/schedule_registry.h"

#include <algorithm>
#include <deque>
#include <stdexcept>
#include <string>

#include "engine/schedules/chunk_plan.h"
#include "engine/schedules/schedule_builders.h"

namespace parm {
namespace {

using enum CapacityRule;
using enum ScheduleFamily;

// The built-in schedules, in spec section 4's order (their index is their ScheduleKind constant).
std::deque<ScheduleSpec> built_in_schedules() {
  using namespace builtin;
  return {
      {.name = "B_DS",
       .family = Baseline,
       .forward = forward_b_ds,
       .capacity = {C0, C2},
       .volumes = volumes_b_ds,
       .tie_rank = 2,
       .reason =
           "communication is not the bottleneck: the extra collectives of the other schedules cost more "
           "than B_DS's duplicated AlltoAll"},
      {.name = "B_DS2",
       .family = Baseline,
       .forward = forward_b_ds2,
       .capacity = C2,
       .volumes = volumes_b_ds2,
       .tie_rank = 3,
       .reason = "splitting the capacity over MP removes the N-fold duplicated AlltoAll"},
      {.name = "B0",
       .family = Baseline,
       .forward = forward_b0,
       .capacity = C0,
       .volumes = volumes_b0,
       .tie_rank = 4,
       .reason = "generic ESP: redundant expert work is cheaper than the alternatives here"},
      {.name = "S1",
       .forward = forward_s1,
       .capacity = C1,
       .split_tokens = true,
       .volumes = volumes_s1,
       .tie_rank = 0,
       .reason =
           "each MP rank sends only its S/N tokens (AlltoAll of D1); the exposed MP AllGather of S*M is "
           "cheap and unfused collectives avoid W latency terms"},
      {.name = "S1F",
       .fused = true,
       .unfused = "S1",
       .forward = forward_s1f,
       .capacity = C1,
       .split_tokens = true,
       .volumes = volumes_s1f,
       .tie_rank = 5,
       .reason = "its SAA/RSA pipelines overlap the ESP collectives of S/N tokens with the AlltoAll"},
      {.name = "S2",
       .forward = forward_s2,
       .capacity = C2,
       .volumes = volumes_s2,
       .tie_rank = 1,
       .reason = "the capacity is split over MP before the AlltoAll (D2/N per GPU) and one AllGather resumes "
                 "MP; unfused collectives avoid W latency terms"},
      {.name = "S2F",
       .fused = true,
       .unfused = "S2",
       .forward = forward_s2f,
       .capacity = C2,
       .volumes = volumes_s2f,
       .tie_rank = 6,
       .reason = {"its RS>A2A>AG pipeline hides the MP AllGather under the inter-node AlltoAll",
                  "its SAA pipeline hides the MP AllGather under the inter-node AlltoAll"}},
  };
}

struct Registry {
  std::deque<ScheduleSpec> specs;           // a deque: registering never moves a spec others hold
  std::vector<const ScheduleSpec*> listed;  // not the variants
  std::vector<const ScheduleSpec*> by_kind;
  std::deque<std::string> texts;  // the variants' names and reasons (specs hold views)

  Registry() {
    for (ScheduleSpec& s : built_in_schedules()) add(std::move(s));
    const std::vector<const ScheduleSpec*> bases = listed;
    for (const ScheduleSpec* b : bases)
      for (int f : kPipelineDegrees)
        for (int r : kPipelineDegrees)
          if (f > 1 || r > 1) add(variant(*b, {f, r}));
    for (const ScheduleSpec* b : bases)
      if (!b->fused)
        for (int f : kPipelineDegrees)
          for (int r : kPipelineDegrees) add(hierarchical(*b, {f, r}));
  }

  std::string_view keep(std::string text) { return texts.emplace_back(std::move(text)); }

  // The schedule at degree f forward and r backward: same op lists, chunked; same bytes; ties after every
  // r = 1 schedule and after lower degrees (forward first).
  ScheduleSpec variant(const ScheduleSpec& b, ScheduleSpec::Degrees d) {
    ScheduleSpec v = b;
    const std::string suffix = degree_suffix(d);
    v.name = keep(std::string(b.name) + suffix);
    v.base = b.name;
    if (!b.unfused.empty()) v.unfused = keep(std::string(b.unfused) + suffix);
    v.pipeline_degree = d;
    v.tie_rank = b.tie_rank + 100 * d.forward + 10 * d.backward;
    const std::string why =
        d.forward == d.backward
            ? ", in " + std::to_string(d.forward) +
                  " capacity chunks whose collectives overlap the experts of the chunk before"
            : ", in capacity chunks whose collectives overlap the experts of the chunk before (" +
                  std::to_string(d.forward) + " forward, " + std::to_string(d.backward) + " backward)";
    v.reason = {keep(std::string(b.reason.sharded) + why), keep(std::string(b.reason.whole_experts) + why)};
    return v;
  }

  // The schedule at degrees d with its AlltoAlls hierarchical: ties after every flat option.
  ScheduleSpec hierarchical(const ScheduleSpec& b, ScheduleSpec::Degrees d) {
    ScheduleSpec v = d.forward > 1 || d.backward > 1 ? variant(b, d) : b;
    v.name = keep(std::string(v.name) + "h");
    v.base = b.name;
    v.alltoall = AlltoAllAlgorithm::Hierarchical;
    v.tie_rank = b.tie_rank + 100 * d.forward + 10 * d.backward + 1000;
    const std::string why = ", with a hierarchical (2DH) AlltoAll";
    v.reason = {keep(std::string(v.reason.sharded) + why), keep(std::string(v.reason.whole_experts) + why)};
    return v;
  }

  ScheduleKind add(ScheduleSpec spec) {
    if (spec.name.empty()) throw std::invalid_argument("register_schedule: empty name");
    if (!spec.forward || !spec.volumes)
      throw std::invalid_argument("register_schedule: " + std::string(spec.name) +
                                  " needs a forward builder and a volumes function");
    if (find(spec.name))
      throw std::invalid_argument("register_schedule: " + std::string(spec.name) + " is already registered");
    spec.kind = ScheduleKind(static_cast<int>(specs.size()));
    specs.push_back(std::move(spec));
    by_kind.push_back(&specs.back());
    if (specs.back().base.empty()) listed.push_back(&specs.back());
    return specs.back().kind;
  }

  const ScheduleSpec* find(std::string_view name) const {
    for (const ScheduleSpec& s : specs)
      if (s.name == name) return &s;
    return nullptr;
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

bool has_whole_experts(const ParallelConfig& parallel) {
  return parallel.esp == 1 && parallel.mp > 1;
}

bool has_whole_experts(const DerivedSizes& sizes) {
  return sizes.n_esp == 1 && sizes.N > 1;
}

const std::vector<const ScheduleSpec*>& schedule_registry() {
  return registry().listed;
}

const ScheduleSpec& spec_of(ScheduleKind kind) {
  const auto& listed = registry().by_kind;
  if (kind.index() < 0 || static_cast<std::size_t>(kind.index()) >= listed.size())
    throw std::out_of_range("spec_of: no schedule with registry index " + std::to_string(kind.index()));
  return *listed[static_cast<std::size_t>(kind.index())];
}

const ScheduleSpec* find_schedule(std::string_view name) {
  return registry().find(name);
}

ScheduleKind register_schedule(ScheduleSpec spec) {
  spec.base = {};  // variants are the registry's own
  spec.pipeline_degree = {};
  spec.alltoall = AlltoAllAlgorithm::Flat;
  return registry().add(std::move(spec));
}

std::string degree_suffix(ScheduleSpec::Degrees d) {
  if (d.forward == d.backward) return d.forward > 1 ? "r" + std::to_string(d.forward) : std::string();
  return "f" + std::to_string(d.forward) + "b" + std::to_string(d.backward);
}

const ScheduleSpec* schedule_variant(ScheduleKind base, ScheduleSpec::Degrees degrees,
                                     AlltoAllAlgorithm algorithm) {
  const ScheduleSpec& b = spec_of(base);
  if (!b.base.empty()) return nullptr;
  const bool flat = algorithm == AlltoAllAlgorithm::Flat;
  const std::string suffix = degree_suffix(degrees);
  if (suffix.empty() && flat) return &b;
  const ScheduleSpec* v = find_schedule(std::string(b.name) + suffix + (flat ? "" : "h"));
  return v && v->base == b.name && v->alltoall == algorithm &&
                 v->pipeline_degree.forward == degrees.forward &&
                 v->pipeline_degree.backward == degrees.backward
             ? v
             : nullptr;
}

const ScheduleSpec* schedule_variant(ScheduleKind base, int degree, AlltoAllAlgorithm algorithm) {
  return schedule_variant(base, {degree, degree}, algorithm);
}

const ScheduleSpec* pipelined_variant(ScheduleKind base, int degree) {
  return schedule_variant(base, degree, AlltoAllAlgorithm::Flat);
}

std::vector<ScheduleKind> with_variants(const std::vector<ScheduleKind>& kinds,
                                        const std::vector<int>& degrees,
                                        const std::vector<AlltoAllAlgorithm>& algorithms,
                                        bool separate_degrees) {
  std::vector<ScheduleKind> out;
  const auto add = [&](ScheduleKind k) {
    if (std::find(out.begin(), out.end(), k) == out.end()) out.push_back(k);
  };
  for (ScheduleKind k : kinds) {
    if (!spec_of(k).base.empty()) add(k);  // a variant named already stays, whatever the degrees
    for (int f : degrees)
      for (int r : degrees) {
        if (f != r && !separate_degrees) continue;
        for (AlltoAllAlgorithm a : algorithms)
          if (const ScheduleSpec* v = schedule_variant(base_of(k), {f, r}, a)) add(v->kind);
      }
  }
  return out;
}

ScheduleKind base_of(ScheduleKind kind) {
  const ScheduleSpec& s = spec_of(kind);
  if (s.base.empty()) return kind;
  const ScheduleSpec* b = find_schedule(s.base);
  return b ? b->kind : kind;
}

std::string_view to_string(ScheduleKind s) {
  const auto& listed = registry().by_kind;
  if (s.index() < 0 || static_cast<std::size_t>(s.index()) >= listed.size()) return "?";
  return listed[static_cast<std::size_t>(s.index())]->name;
}

std::optional<ScheduleKind> parse_schedule(std::string_view name) {
  const ScheduleSpec* s = find_schedule(name);
  return s ? std::optional<ScheduleKind>(s->kind) : std::nullopt;
}

std::vector<ScheduleKind> all_schedules() {
  std::vector<ScheduleKind> out;
  for (const ScheduleSpec* s : registry().listed) out.push_back(s->kind);
  return out;
}

std::vector<ScheduleKind> every_schedule() {
  std::vector<ScheduleKind> out;
  for (const ScheduleSpec* s : registry().by_kind) out.push_back(s->kind);
  return out;
}

std::string schedule_names() {
  std::string out;
  for (const ScheduleSpec* s : registry().listed) {
    if (!out.empty()) out += ", ";
    out += s->name;
  }
  return out;
}

}  // namespace parm
