// Parm S2 [reconstructed]: pause MP only around the token exchange. The capacity (C2, a multiple of N) is
// split over the MP group before the AlltoAll; one AllGather is both the MP resume and the ESP-AllGather; one
// ESP-ReduceScatter along capacity replaces AllReduce + Split; the combine runs on the full tensor. S2F fuses
// both AlltoAll+AllGather pairs (SAA). Forward op lists and the volumes of spec section 5.
#include "engine/schedules/schedule_builders.h"
#include "engine/schedules/schedule_registry.h"

namespace parm::builtin {
namespace {

std::vector<Op> forward(bool fused, const ParallelConfig& parallel) {
  using namespace ops;
  const Stage a2a{OpKind::AlltoAll, Group::EP, Dim::None};
  const Stage gather_capacity{OpKind::AllGather, Group::MP, Dim::Capacity};
  std::vector<Op> f{gate(), order(), split(Group::MP, Dim::Capacity, "dispatch")};
  if (has_whole_experts(parallel)) {  // B_DS with the last AlltoAll and MP-AllGather fused
    f.push_back(collective(OpKind::AlltoAll, Group::EP, Dim::None, "dispatch"));
    f.push_back(experts(false));
    f.push_back(pipeline({a2a, gather_capacity}, "combine"));
  } else if (fused) {
    // The combine side pipelines all three steps, RS -> A2A -> AG: the worked cases TC-3..TC-5 of spec
    // section 7 price S2F's forward that way (SAA + the 3-stage chain), which also hides the ReduceScatter.
    f.push_back(pipeline({a2a, {OpKind::AllGather, Group::ESP, Dim::Peer}}, "dispatch"));
    f.push_back(experts(true));
    f.push_back(pipeline({{OpKind::ReduceScatter, Group::ESP, Dim::Peer}, a2a, gather_capacity}, "combine"));
  } else {
    f.push_back(collective(OpKind::AlltoAll, Group::EP, Dim::None, "dispatch"));
    f.push_back(collective(OpKind::AllGather, Group::ESP, Dim::Peer, "dispatch"));
    f.push_back(experts(true));
    f.push_back(collective(OpKind::ReduceScatter, Group::ESP, Dim::Peer, "expert output"));
    f.push_back(collective(OpKind::AlltoAll, Group::EP, Dim::None, "combine"));
    f.push_back(collective(OpKind::AllGather, Group::MP, Dim::Capacity, "combine"));
  }
  f.push_back(combine());
  return f;
}

void volumes(bool fused, const DerivedSizes& d, VolumeList& v) {
  constexpr auto A2A = Collective::AlltoAll;
  constexpr auto AG = Collective::AllGather;
  const std::int64_t N = d.N;
  if (has_whole_experts(d)) {  // S2 is B_DS with the last AlltoAll and MP-AllGather fused
    v.fwd("dispatch", A2A, Group::EP, d.D2 / N);
    v.fwd("combine", A2A, Group::EP, d.D2 / N, "SAA");
    v.fwd("combine", AG, Group::MP, d.D2, "SAA");
    return;
  }
  const std::string chain = fused ? "RS>A2A>AG" : "";
  v.fwd("dispatch", A2A, Group::EP, d.D2 / N, fused ? "SAA" : "");
  v.fwd("dispatch", AG, Group::ESP, d.D2, fused ? "SAA" : "");
  v.fwd("expert output", Collective::ReduceScatter, Group::ESP, d.D2, chain);
  v.fwd("combine", A2A, Group::EP, d.D2 / N, chain);
  v.fwd("combine", AG, Group::MP, d.D2, chain);
}

}  // namespace

std::vector<Op> forward_s2(const ParallelConfig& parallel) {
  return forward(false, parallel);
}
std::vector<Op> forward_s2f(const ParallelConfig& parallel) {
  return forward(true, parallel);
}
void volumes_s2(const Config&, const DerivedSizes& sizes, VolumeList& out) {
  volumes(false, sizes, out);
}
void volumes_s2f(const Config&, const DerivedSizes& sizes, VolumeList& out) {
  volumes(true, sizes, out);
}

}  // namespace parm::builtin
