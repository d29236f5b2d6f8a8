#include "engine/sizes.h"

#include "kernels/capacity.h"

namespace parm {

DerivedSizes derive_sizes(const Config& config) {
  const LayerConfig& l = config.layer;
  const ParallelConfig& p = config.parallel;
  DerivedSizes d;
  d.S = l.tokens();
  d.N = p.mp;
  d.n_ep = p.ep();
  d.n_esp = p.esp;
  d.local_experts = l.num_experts / d.n_ep;
  d.h_shard = l.ffn_hidden / p.esp;
  d.nodes = p.nodes();
  const auto capacity = [&](std::int64_t tokens) {
    return kernels::expert_capacity(tokens, l.num_experts, l.capacity_factor, l.top_k, l.min_capacity);
  };
  d.C0 = capacity(d.S);
  d.C1 = capacity(d.S / d.N);
  d.C2 = kernels::round_up(d.C0, d.N);
  d.D0 = l.num_experts * d.C0 * l.hidden;
  d.D1 = l.num_experts * d.C1 * l.hidden;
  d.D2 = l.num_experts * d.C2 * l.hidden;
  d.bytes_per_element = bytes_per_element(l.dtype);
  d.dynamic_capacity = !l.drop_tokens;
  return d;
}

}  // namespace parm
