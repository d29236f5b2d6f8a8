// Parm S1 [reconstructed]: pause MP for the whole layer. Each MP rank gates its own S/N tokens (capacity C1),
// so no token is sent twice; the layer output is restored by one exposed MP-AllGather of S*M elements. S1F
// fuses the AlltoAll with the ESP-AllGather (SAA) and the ESP-ReduceScatter with the AlltoAll (RSA).
// Forward op lists and the volumes of spec section 5.
#include "engine/schedules/schedule_builders.h"
#include "engine/schedules/schedule_registry.h"

namespace parm::builtin {
namespace {

std::vector<Op> forward(bool fused, const ParallelConfig& parallel) {
  using namespace ops;
  std::vector<Op> f{split(Group::MP, Dim::Tokens, "tokens"), gate(true), order()};
  if (has_whole_experts(parallel)) {  // no ESP collective to fuse with: S1F runs as S1
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

void volumes(bool fused, const Config& config, const DerivedSizes& d, VolumeList& v) {
  constexpr auto A2A = Collective::AlltoAll;
  constexpr auto AG = Collective::AllGather;
  const std::int64_t SM = d.S * config.layer.hidden;
  if (has_whole_experts(d)) {  // nothing to fuse without an ESP AllGather: S1F runs as S1
    v.fwd("dispatch", A2A, Group::EP, d.D1);
    v.fwd("combine", A2A, Group::EP, d.D1);
  } else {
    v.fwd("dispatch", A2A, Group::EP, d.D1, fused ? "SAA" : "");
    v.fwd("expert input", AG, Group::ESP, d.N * d.D1, fused ? "SAA" : "");
    v.fwd("expert output", Collective::ReduceScatter, Group::ESP, d.N * d.D1, fused ? "RSA" : "");
    v.fwd("combine", A2A, Group::EP, d.D1, fused ? "RSA" : "");
  }
  v.fwd("tokens", AG, Group::MP, SM);
  // Each MP rank gated different tokens: the router gradient dWg (M x E) is summed over the MP group.
  v.add(Pass::Backward, "router grad", Collective::AllReduce, Group::MP,
        config.layer.hidden * config.layer.num_experts);
}

}  // namespace

std::vector<Op> forward_s1(const ParallelConfig& parallel) {
  return forward(false, parallel);
}
std::vector<Op> forward_s1f(const ParallelConfig& parallel) {
  return forward(true, parallel);
}
void volumes_s1(const Config& config, const DerivedSizes& sizes, VolumeList& out) {
  volumes(false, config, sizes, out);
}
void volumes_s1f(const Config& config, const DerivedSizes& sizes, VolumeList& out) {
  volumes(true, config, sizes, out);
}

}  // namespace parm::builtin
