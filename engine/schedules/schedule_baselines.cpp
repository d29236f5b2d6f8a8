// DeepSpeed-MoE baselines (spec parm.md section 4): B_DS (experts tensor-parallel over MP, N-fold duplicated
// AlltoAll), B_DS2 (DeepSpeed after PR 5626: capacity split over MP before the AlltoAll) and B0 (generic ESP
// on MP-replicated tokens). Forward op lists and the volumes of section 5.
#include "engine/schedules/schedule_builders.h"
#include "engine/schedules/schedule_registry.h"

namespace parm::builtin {
namespace {

using namespace ops;
constexpr auto A2A = Collective::AlltoAll;
constexpr auto AG = Collective::AllGather;
constexpr auto RS = Collective::ReduceScatter;
constexpr auto AR = Collective::AllReduce;

Op a2a(const char* label) {
  return collective(OpKind::AlltoAll, Group::EP, Dim::None, label);
}

// DeepSpeed's plain MP+EP case (whole experts); B_DS2 is the same schedule there.
std::vector<Op> deepspeed_whole_experts() {
  return {gate(),
          order(),
          split(Group::MP, Dim::Capacity, "dispatch"),
          a2a("dispatch"),
          experts(false),
          a2a("combine"),
          collective(OpKind::AllGather, Group::MP, Dim::Capacity, "combine"),
          combine()};
}

void deepspeed_whole_experts_volumes(const DerivedSizes& d, VolumeList& v) {
  v.fwd("dispatch", A2A, Group::EP, d.D2 / d.N);
  v.fwd("combine", A2A, Group::EP, d.D2 / d.N);
  v.fwd("combine", AG, Group::MP, d.D2);
}

}  // namespace

std::vector<Op> forward_b_ds(const ParallelConfig& parallel) {
  if (has_whole_experts(parallel)) return deepspeed_whole_experts();
  return {gate(),          order(),
          a2a("dispatch"), collective(OpKind::Copy, Group::MP, Dim::None, "expert input"),
          experts(true),   collective(OpKind::AllReduce, Group::MP, Dim::None, "expert output"),
          a2a("combine"),  combine()};
}

std::vector<Op> forward_b_ds2(const ParallelConfig& parallel) {
  if (has_whole_experts(parallel)) return deepspeed_whole_experts();
  return {gate(),
          order(),
          split(Group::MP, Dim::Capacity, "dispatch"),
          a2a("dispatch"),
          collective(OpKind::AllGather, Group::MP, Dim::Peer, "dispatch"),
          collective(OpKind::Copy, Group::MP, Dim::None, "expert input"),
          experts(true),
          collective(OpKind::AllReduce, Group::MP, Dim::None, "expert output"),
          split(Group::MP, Dim::Peer, "combine"),
          a2a("combine"),
          collective(OpKind::AllGather, Group::MP, Dim::Capacity, "combine"),
          combine()};
}

std::vector<Op> forward_b0(const ParallelConfig& parallel) {
  const int n = static_cast<int>(parallel.mp);
  if (has_whole_experts(
          parallel))  // every MP rank sends all its (replicated) tokens: N replicas do the same work
    return {gate(), order(), a2a("dispatch"), experts(false, n), a2a("combine"), combine()};
  // The N gathered blocks are identical, so the expert work is N-fold redundant.
  return {gate(),           order(),
          a2a("dispatch"),  collective(OpKind::AllGather, Group::ESP, Dim::Peer, "expert input"),
          experts(true, n), collective(OpKind::ReduceScatter, Group::ESP, Dim::Peer, "expert output"),
          a2a("combine"),   combine()};
}

void volumes_b_ds(const Config&, const DerivedSizes& d, VolumeList& v) {
  if (has_whole_experts(d)) return deepspeed_whole_experts_volumes(d, v);
  v.fwd("dispatch", A2A, Group::EP, d.D0);
  v.fwd("expert output", AR, Group::MP, d.D0);
  v.fwd("combine", A2A, Group::EP, d.D0);
}

void volumes_b_ds2(const Config&, const DerivedSizes& d, VolumeList& v) {
  if (has_whole_experts(d)) return deepspeed_whole_experts_volumes(d, v);
  v.fwd("dispatch", A2A, Group::EP, d.D2 / d.N);
  v.fwd("dispatch", AG, Group::MP, d.D2);
  v.fwd("expert output", AR, Group::MP, d.D2);
  v.fwd("combine", A2A, Group::EP, d.D2 / d.N);
  v.fwd("combine", AG, Group::MP, d.D2);
}

void volumes_b0(const Config&, const DerivedSizes& d, VolumeList& v) {
  v.fwd("dispatch", A2A, Group::EP, d.D0);
  if (!has_whole_experts(d)) {  // the N identical blocks gathered, the H-shard partial sums scattered
    v.fwd("expert input", AG, Group::ESP, d.N * d.D0);
    v.fwd("expert output", RS, Group::ESP, d.N * d.D0);
  }
  v.fwd("combine", A2A, Group::EP, d.D0);
}

}  // namespace parm::builtin
