// Parm S1 [reconstructed]: pause MP for the whole layer. Each MP rank gates its own S/N tokens (capacity C1),
// so no token is sent twice; the layer output is restored by one exposed MP-AllGather of S*M elements. S1F
// fuses the AlltoAll with the ESP-AllGather (SAA) and the ESP-ReduceScatter with the AlltoAll (RSA).
#include "engine/schedules/schedule_ir.h"

namespace parm {

std::vector<Op> build_forward_s1(bool fused, const ParallelConfig& parallel) {
  using namespace ops;
  const bool whole_experts = parallel.esp == 1 && parallel.mp > 1;
  std::vector<Op> f{split(Group::MP, Dim::Tokens, "tokens"), gate(true), order()};
  if (whole_experts) {  // no ESP collective to fuse with: S1F runs as S1
    f.push_back(collective(OpKind::AlltoAll, Group::EP, Dim::None, "dispatch"));
    f.push_back(experts(false));
    f.push_back(collective(OpKind::AlltoAll, Group::EP, Dim::None, "combine"));
  } else if (fused) {
    f.push_back(pipeline(
        {{OpKind::AlltoAll, Group::EP, Dim::None}, {OpKind::AllGather, Group::ESP, Dim::Peer}}, "dispatch"));
    f.push_back(experts(true));
    f.push_back(
        pipeline({{OpKind::ReduceScatter, Group::ESP, Dim::Peer}, {OpKind::AlltoAll, Group::EP, Dim::None}},
                 "combine"));
  } else {
    f.push_back(collective(OpKind::AlltoAll, Group::EP, Dim::None, "dispatch"));
    f.push_back(collective(OpKind::AllGather, Group::ESP, Dim::Peer, "expert input"));
    f.push_back(experts(true));
    f.push_back(collective(OpKind::ReduceScatter, Group::ESP, Dim::Peer, "expert output"));
    f.push_back(collective(OpKind::AlltoAll, Group::EP, Dim::None, "combine"));
  }
  f.push_back(combine());
  f.push_back(collective(OpKind::AllGather, Group::MP, Dim::Tokens, "tokens"));
  return f;
}

}  // namespace parm
