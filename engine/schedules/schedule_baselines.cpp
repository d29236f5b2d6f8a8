// DeepSpeed-MoE baselines (spec parm.md section 4): B_DS (experts tensor-parallel over MP, N-fold duplicated
// AlltoAll), B_DS2 (DeepSpeed after PR 5626: capacity split over MP before the AlltoAll) and B0 (generic ESP
// on MP-replicated tokens).
#include "engine/schedules/schedule_ir.h"

namespace parm {

std::vector<Op> build_forward_baseline(ScheduleKind kind, const ParallelConfig& parallel) {
  using namespace ops;
  const int n = static_cast<int>(parallel.mp);
  const bool whole_experts = parallel.esp == 1 && n > 1;
  const Op a2a_dispatch = collective(OpKind::AlltoAll, Group::EP, Dim::None, "dispatch");
  const Op a2a_combine = collective(OpKind::AlltoAll, Group::EP, Dim::None, "combine");

  if (whole_experts) {
    if (kind ==
        ScheduleKind::B0)  // every MP rank sends all its (replicated) tokens: N replicas do the same work
      return {gate(), order(), a2a_dispatch, experts(false, n), a2a_combine, combine()};
    // DeepSpeed's plain MP+EP case; B_DS2 is the same schedule here.
    return {gate(),
            order(),
            split(Group::MP, Dim::Capacity, "dispatch"),
            a2a_dispatch,
            experts(false),
            a2a_combine,
            collective(OpKind::AllGather, Group::MP, Dim::Capacity, "combine"),
            combine()};
  }

  switch (kind) {
    case ScheduleKind::B_DS:
      return {gate(),        order(),
              a2a_dispatch,  collective(OpKind::Copy, Group::MP, Dim::None, "expert input"),
              experts(true), collective(OpKind::AllReduce, Group::MP, Dim::None, "expert output"),
              a2a_combine,   combine()};
    case ScheduleKind::B_DS2:
      return {gate(),
              order(),
              split(Group::MP, Dim::Capacity, "dispatch"),
              a2a_dispatch,
              collective(OpKind::AllGather, Group::MP, Dim::Peer, "dispatch"),
              collective(OpKind::Copy, Group::MP, Dim::None, "expert input"),
              experts(true),
              collective(OpKind::AllReduce, Group::MP, Dim::None, "expert output"),
              split(Group::MP, Dim::Peer, "combine"),
              a2a_combine,
              collective(OpKind::AllGather, Group::MP, Dim::Capacity, "combine"),
              combine()};
    default:  // B0: the N gathered blocks are identical, so the expert work is N-fold redundant
      return {gate(),           order(),
              a2a_dispatch,     collective(OpKind::AllGather, Group::ESP, Dim::Peer, "expert input"),
              experts(true, n), collective(OpKind::ReduceScatter, Group::ESP, Dim::Peer, "expert output"),
              a2a_combine,      combine()};
  }
}

}  // namespace parm
