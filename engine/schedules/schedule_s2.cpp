// Parm S2 [reconstructed]: pause MP only around the token exchange. The capacity (C2, a multiple of N) is
// split over the MP group before the AlltoAll; one AllGather is both the MP resume and the ESP-AllGather; one
// ESP-ReduceScatter along capacity replaces AllReduce + Split; the combine runs on the full tensor. S2F fuses
// both AlltoAll+AllGather pairs (SAA).
#include "engine/schedules/schedule_ir.h"

namespace parm {

std::vector<Op> build_forward_s2(bool fused, const ParallelConfig& parallel) {
  using namespace ops;
  const bool whole_experts = parallel.esp == 1 && parallel.mp > 1;
  const Stage a2a{OpKind::AlltoAll, Group::EP, Dim::None};
  const Stage gather_capacity{OpKind::AllGather, Group::MP, Dim::Capacity};
  std::vector<Op> f{gate(), order(), split(Group::MP, Dim::Capacity, "dispatch")};
  if (whole_experts) {  // B_DS with the last AlltoAll and MP-AllGather fused
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

}  // namespace parm
