// The schedule registry: one ScheduleSpec per schedule, everything the engine and the models need to know
// about it besides its op lists. build_schedule, the volumes of spec section 5, the cost model's tie rule,
// the recommendation's reason and the names in configs, JSON and the database all read it, so nothing outside
// engine/schedules switches over schedule kinds.
//
// Adding a built-in schedule: a builder file (forward op list + section-5 volumes, declared in
// schedule_builders.h) and one entry in schedule_registry.cpp. A schedule outside the engine (a test fixture)
// calls register_schedule once at start-up (tests/engine/schedules/fixture_schedule_b_ds_copy.cpp).
#pragma once

#include <concepts>
#include <string>
#include <string_view>
#include <vector>

#include "engine/core/config.h"
#include "engine/core/sizes.h"
#include "engine/schedules/schedule_ir.h"
#include "engine/schedules/schedule_kind.h"
#include "engine/schedules/volumes.h"

namespace parm {

// Spec section 4's two layouts: experts H-sharded over the MP group (N_ESP = N_MP, or N_MP = 1), or whole
// experts (N_ESP = 1 < N_MP), where the ESP collectives disappear and some schedules change shape.
bool has_whole_experts(const ParallelConfig& parallel);
bool has_whole_experts(const DerivedSizes& sizes);

// A property that may differ between the two layouts.
template <typename T>
struct PerLayout {
  T sharded{};
  T whole_experts{};
  constexpr PerLayout() = default;
  template <typename U>
  requires std::convertible_to<U, T>
  constexpr PerLayout(U both) : sharded(both), whole_experts(both) {}  // one value for both layouts
  constexpr PerLayout(T sharded_experts, T whole) : sharded(sharded_experts), whole_experts(whole) {}
  constexpr const T& of(bool whole) const { return whole ? whole_experts : sharded; }
};

enum class ScheduleFamily {
  Baseline,  // DeepSpeed-MoE and generic ESP: what Parm is compared against (B_DS, B_DS2, B0)
  Parm,      // Parm's schedules (S1, S2 and their fused variants)
};

// The forward op list for a validated layout; the backward list is derived (derive_backward).
using ForwardBuilder = std::vector<Op> (*)(const ParallelConfig& parallel);
// Appends the schedule's collectives with the volumes of spec section 5, forward in execution order, then
// any backward-only collective (S1's router-gradient AllReduce).
using VolumesFunction = void (*)(const Config& config, const DerivedSizes& sizes, VolumeList& out);

struct ScheduleSpec {
  std::string_view name{};  // as configs, JSON, the database and tables spell it: "B_DS", "S1F"
  ScheduleFamily family = ScheduleFamily::Parm;
  // A fused variant pipelines collectives of `unfused` (SAA, RSA, RS>A2A>AG) and moves the same bytes.
  bool fused = false;
  std::string_view unfused{};  // "S1" for S1F; empty for an unfused schedule
  ForwardBuilder forward = nullptr;
  PerLayout<CapacityRule> capacity = CapacityRule::C0;  // C0 / C1 / C2 (spec section 4)
  bool split_tokens = false;  // each MP rank gates its own S/N tokens (S1): the router gradient is summed
  VolumesFunction volumes = nullptr;
  // Selection ties (within 1e-6) go to the lowest rank: unfused first, S1 before S2 (spec section 7).
  int tie_rank = 0;
  // Why the recommendation picks it, after "<name>: " (spec section 4's trade-off, in words).
  PerLayout<std::string_view> reason{};
  // A pipelined variant (chunk_plan.h): the schedule `base` with its chunked region run in this many
  // capacity chunks per direction ("S1r4" = S1 at r = 4 both ways, "S1f4b2" = 4 forward, 2 backward, as
  // FSMoE picks them apart). Variants are registered with the built-ins but are not in schedule_registry() /
  // all_schedules(): a run or a selection names them, or asks for them (with_variants).
  struct Degrees {
    int forward = 1, backward = 1;
  } pipeline_degree{};
  // A hierarchical variant ("S1h", "S2r4h"): its EP AlltoAlls run as 2DH (alltoall_algorithm.h). Registered
  // for the schedules with a plain AlltoAll op (not the fused ones, whose EP exchange is already W pairwise
  // steps), at every pipeline degree.
  AlltoAllAlgorithm alltoall = AlltoAllAlgorithm::Flat;
  std::string_view base{};  // empty: not a variant
  ScheduleKind kind{};      // assigned by the registry: its index
};

// Every registered schedule, in registry order (built-ins first, in spec section 4's order); not the
// pipelined variants.
const std::vector<const ScheduleSpec*>& schedule_registry();
// The name suffix of pipeline degrees: "" at 1 / 1, "r4" at 4 / 4, "f4b2" at 4 forward and 2 backward.
std::string degree_suffix(ScheduleSpec::Degrees degrees);
// The variant of a schedule at `degrees` with `algorithm` ("<name>", "<name>r4", "<name>f4b2", "<name>h",
// "<name>r4h", "<name>f1b8h"), nullptr when it has none (a degree outside kPipelineDegrees, a fused
// schedule's 2DH, a schedule registered after start-up).
const ScheduleSpec* schedule_variant(ScheduleKind base, ScheduleSpec::Degrees degrees,
                                     AlltoAllAlgorithm algorithm);
// The same degree both ways.
const ScheduleSpec* schedule_variant(ScheduleKind base, int degree, AlltoAllAlgorithm algorithm);
// The flat variant at `degree` (schedule_variant with Flat).
const ScheduleSpec* pipelined_variant(ScheduleKind base, int degree);
// `kinds` with every variant of each at the degrees (forward x backward, or the same both ways without
// separate_degrees) and algorithms listed (1 / flat = the schedule itself), forward-degree-major; a variant
// in `kinds` stays, followed by its base's variants.
std::vector<ScheduleKind> with_variants(const std::vector<ScheduleKind>& kinds,
                                        const std::vector<int>& degrees,
                                        const std::vector<AlltoAllAlgorithm>& algorithms,
                                        bool separate_degrees = true);
// The schedule a variant pipelines (itself for one that is not a variant).
ScheduleKind base_of(ScheduleKind kind);
// The spec of a registered kind; throws std::out_of_range for an index the registry does not hold.
const ScheduleSpec& spec_of(ScheduleKind kind);
// By name; nullptr when no schedule has it.
const ScheduleSpec* find_schedule(std::string_view name);

// Adds a schedule after the built-ins and returns its kind. Call at start-up, before any thread reads the
// registry (a namespace-scope initializer). Throws std::invalid_argument for a duplicate or empty name or a
// missing builder or volumes function.
ScheduleKind register_schedule(ScheduleSpec spec);

}  // namespace parm
