#include "engine/core/sizes.h"

#include <algorithm>
#include <stdexcept>
#include <utility>
#include <vector>

#include "engine/core/checked_math.h"
#include "engine/core/config_issue.h"
#include "kernels/capacity.h"

namespace parm {
namespace {

constexpr double kInt64Range = 0x1p63;  // 9.2e18: the first double outside int64

struct Factor {
  const char* field;
  double value;  // for blame: the largest factor is named
  std::string text;
};

Factor factor(const char* field, std::int64_t v) {
  return {field, static_cast<double>(v), std::to_string(v)};
}

// The largest of `factors` is the one to name: for batch 2^57 * seq_len 64 it is batch.
SizeOverflow blame(const std::vector<Factor>& factors, const std::string& what) {
  const Factor* top = &factors.front();
  for (const Factor& f : factors)
    if (f.value > top->value) top = &f;
  return {top->field, top->text,
          what + " leaves the 64-bit range (at most 9223372036854775807); reduce " + top->field};
}

// What drives capacity C: min_capacity when it is the larger term of the rule, else the token count or f.
Factor capacity_driver(const LayerConfig& l, std::int64_t c) {
  const double rule = kernels::capacity_rule_value(l.tokens(), l.num_experts, l.capacity_factor, l.top_k,
                                                   l.capacity_rounding);
  if (static_cast<double>(l.min_capacity) >= rule) return factor("layer.min_capacity", l.min_capacity);
  std::vector<Factor> drivers{factor("layer.batch", l.batch),
                              factor("layer.seq_len", l.seq_len),
                              {"layer.capacity_factor", l.capacity_factor, shortest(l.capacity_factor)}};
  const Factor* top = &drivers.front();
  for (const Factor& f : drivers)
    if (f.value > top->value) top = &f;
  return {top->field, static_cast<double>(c), top->text};
}

}  // namespace

CheckedSizes derive_sizes_checked(const Config& config) {
  const LayerConfig& l = config.layer;
  const ParallelConfig& p = config.parallel;
  CheckedSizes out;
  const auto fail = [&](SizeOverflow o) {
    out.overflow = std::move(o);
    return out;
  };

  const auto S = checked_mul(l.batch, l.seq_len);
  if (!S)
    return fail(blame({factor("layer.batch", l.batch), factor("layer.seq_len", l.seq_len)},
                      "tokens S = batch*seq_len"));
  DerivedSizes d;
  d.S = *S;
  d.N = p.mp;
  d.n_ep = p.ep();
  d.n_esp = p.esp;
  d.local_experts = l.num_experts / d.n_ep;
  d.h_shard = l.ffn_hidden / p.esp;
  d.nodes = p.nodes();

  // The capacity rule runs in double (or float32, rounding deepspeed); a value outside int64 (or a float32
  // infinity) would make its conversion undefined.
  const auto capacity = [&](std::int64_t tokens) -> std::optional<std::int64_t> {
    const double c =
        kernels::capacity_rule_value(tokens, l.num_experts, l.capacity_factor, l.top_k, l.capacity_rounding);
    if (!(c < kInt64Range)) return std::nullopt;
    return l.capacity_of(tokens);
  };
  const auto C0 = capacity(d.S), C1 = capacity(d.S / d.N);
  if (!C0 || !C1)
    return fail({"layer.capacity_factor", shortest(l.capacity_factor),
                 "capacity C = ceil(S/E * capacity_factor * top_k) leaves the 64-bit range (at most "
                 "9223372036854775807); reduce layer.capacity_factor"});
  d.C0 = *C0;
  d.C1 = *C1;
  const auto C0_up = checked_add(d.C0, d.N - 1);
  if (!C0_up)
    return fail(blame({capacity_driver(l, d.C0)}, "capacity C2 = C0 rounded up to a multiple of mp"));
  d.C2 = *C0_up / d.N * d.N;

  const auto dispatched = [&](std::int64_t c, const char* name) -> std::optional<SizeOverflow> {
    if (checked_product({l.num_experts, c, l.hidden})) return std::nullopt;
    return blame(
        {factor("layer.num_experts", l.num_experts), capacity_driver(l, c), factor("layer.hidden", l.hidden)},
        std::string("dispatched elements ") + name);
  };
  for (const auto& [c, name] :
       {std::pair{d.C0, "D0 = E*C0*M"}, std::pair{d.C1, "D1 = E*C1*M"}, std::pair{d.C2, "D2 = E*C2*M"}})
    if (auto o = dispatched(c, name)) return fail(*o);
  d.D0 = l.num_experts * d.C0 * l.hidden;
  d.D1 = l.num_experts * d.C1 * l.hidden;
  d.D2 = l.num_experts * d.C2 * l.hidden;

  // The collectives move up to N_MP dispatched tensors at once (B0's and S1's gathered expert input).
  const std::int64_t widest_c = std::max({d.C0, d.C1, d.C2});
  if (!checked_product({d.N, l.num_experts, widest_c, l.hidden, 8}))
    return fail(blame({factor("parallel.mp", p.mp), factor("layer.num_experts", l.num_experts),
                       capacity_driver(l, widest_c), factor("layer.hidden", l.hidden)},
                      "the bytes of mp gathered dispatched tensors N_MP*E*C*M"));

  // Sizes reached at run time: a no-drop capacity of up to S, the global tensors of the reference layer.
  const std::int64_t groups = p.mp_groups();
  if (!l.drop_tokens && !checked_product({l.num_experts, d.S, l.hidden}))
    return fail(blame({factor("layer.num_experts", l.num_experts), factor("layer.batch", l.batch),
                       factor("layer.seq_len", l.seq_len), factor("layer.hidden", l.hidden)},
                      "with drop_tokens = false a capacity of up to S tokens: E*S*M"));
  if (!checked_product({groups, d.S, l.hidden, 8}))
    return fail(blame({factor("parallel.ranks", p.ranks), factor("layer.batch", l.batch),
                       factor("layer.seq_len", l.seq_len), factor("layer.hidden", l.hidden)},
                      "the bytes of all MP groups' tokens (ranks/mp)*S*M"));
  if (!checked_product({l.num_experts, l.hidden, l.ffn_hidden, 3, 8}))
    return fail(blame({factor("layer.num_experts", l.num_experts), factor("layer.hidden", l.hidden),
                       factor("layer.ffn_hidden", l.ffn_hidden)},
                      "the bytes of the layer's expert weights E*M*H"));
  d.bytes_per_element = bytes_per_element(l.dtype);
  d.dynamic_capacity = !l.drop_tokens;
  out.sizes = d;
  return out;
}

DerivedSizes derive_sizes(const Config& config) {
  CheckedSizes checked = derive_sizes_checked(config);
  if (!checked.sizes)
    throw std::logic_error("derive_sizes: " + checked.overflow->field + " = " + checked.overflow->value +
                           ": " + checked.overflow->rule);
  return *checked.sizes;
}

}  // namespace parm
