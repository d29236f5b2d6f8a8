// A trivial variant schedule, defined the way a new schedule outside the engine is: its own builder and
// volumes (a copy of B_DS's, spec parm.md sections 4 and 5) and one register_schedule call. Nothing else in
// the tree knows about it; test_engine_schedule_variant checks that it is built, priced, selected and named
// like the built-ins. Its tie rank is below every built-in's, so it wins its ties with B_DS.
#include "engine/schedules/schedule_registry.h"

namespace parm::fixture {
namespace {

using namespace ops;

std::vector<Op> forward(const ParallelConfig& parallel) {
  const Op a2a_dispatch = collective(OpKind::AlltoAll, Group::EP, Dim::None, "dispatch");
  const Op a2a_combine = collective(OpKind::AlltoAll, Group::EP, Dim::None, "combine");
  if (has_whole_experts(parallel))
    return {gate(),
            order(),
            split(Group::MP, Dim::Capacity, "dispatch"),
            a2a_dispatch,
            experts(false),
            a2a_combine,
            collective(OpKind::AllGather, Group::MP, Dim::Capacity, "combine"),
            combine()};
  return {gate(),        order(),
          a2a_dispatch,  collective(OpKind::Copy, Group::MP, Dim::None, "expert input"),
          experts(true), collective(OpKind::AllReduce, Group::MP, Dim::None, "expert output"),
          a2a_combine,   combine()};
}

void volumes(const Config&, const DerivedSizes& d, VolumeList& v) {
  if (has_whole_experts(d)) {
    v.fwd("dispatch", Collective::AlltoAll, Group::EP, d.D2 / d.N);
    v.fwd("combine", Collective::AlltoAll, Group::EP, d.D2 / d.N);
    v.fwd("combine", Collective::AllGather, Group::MP, d.D2);
    return;
  }
  v.fwd("dispatch", Collective::AlltoAll, Group::EP, d.D0);
  v.fwd("expert output", Collective::AllReduce, Group::MP, d.D0);
  v.fwd("combine", Collective::AlltoAll, Group::EP, d.D0);
}

// The one registration line.
[[maybe_unused]] const ScheduleKind kBdsCopy =
    register_schedule({.name = "B_DS_COPY",
                       .family = ScheduleFamily::Baseline,
                       .forward = forward,
                       .capacity = {CapacityRule::C0, CapacityRule::C2},
                       .volumes = volumes,
                       .tie_rank = -1,
                       .reason = "a copy of B_DS registered by a test fixture, ahead of it on ties"});

}  // namespace
}  // namespace parm::fixture
