#include "kernels/cpu/routing.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "kernels/shared/combine_weight_math.h"
#include "kernels/shared/topk_math.h"

namespace parm::kernels::cpu {

template <typename Scalar>
std::vector<std::int32_t> top_k_choices(const Scalar* probs, std::int64_t tokens, std::int64_t experts,
                                        std::int64_t top_k) {
  if (top_k < 1 || top_k > experts) throw std::invalid_argument("top_k_choices: need 1 <= k <= E");
  std::vector<std::int32_t> choices(static_cast<std::size_t>(tokens * top_k));
  // Probability descending, then index ascending (kernels/shared/topk_math.h): deterministic ties on every
  // backend.
  for (std::int64_t t = 0; t < tokens; ++t)
    shared::top_k_row(probs + t * experts, experts, top_k, choices.data() + t * top_k);
  return choices;
}

std::vector<std::int64_t> expert_loads(const std::vector<std::int32_t>& choices, std::int64_t experts) {
  std::vector<std::int64_t> loads(static_cast<std::size_t>(experts), 0);
  for (std::int32_t e : choices) ++loads[static_cast<std::size_t>(e)];
  return loads;
}

std::vector<std::int64_t> assign_positions(const std::vector<std::int32_t>& choices, std::int64_t tokens,
                                           std::int64_t experts, std::int64_t top_k, std::int64_t capacity) {
  std::vector<std::int64_t> next(static_cast<std::size_t>(experts), 0);
  std::vector<std::int64_t> position(choices.size(), -1);
  for (std::int64_t j = 0; j < top_k; ++j) {
    for (std::int64_t t = 0; t < tokens; ++t) {
      const auto c = static_cast<std::size_t>(t * top_k + j);
      const std::int64_t pos = next[static_cast<std::size_t>(choices[c])]++;
      if (pos < capacity) position[c] = pos;
    }
  }
  return position;
}

Routing route_choices(std::vector<std::int32_t> choices, std::int64_t tokens, std::int64_t experts,
                      std::int64_t top_k, std::int64_t capacity) {
  if (static_cast<std::int64_t>(choices.size()) != tokens * top_k)
    throw std::invalid_argument("route_choices: expected tokens * top_k choices");
  Routing r;
  r.tokens = tokens;
  r.experts = experts;
  r.top_k = top_k;
  r.capacity = capacity;
  r.tokens_per_expert = expert_loads(choices, experts);
  r.position = assign_positions(choices, tokens, experts, top_k, capacity);
  r.expert = std::move(choices);
  return r;
}

template <typename Scalar>
Routing make_routing(const Scalar* probs, std::int64_t tokens, std::int64_t experts, std::int64_t top_k,
                     std::int64_t capacity) {
  return route_choices(top_k_choices(probs, tokens, experts, top_k), tokens, experts, top_k, capacity);
}

std::int64_t dropped_choices(const Routing& routing) {
  return std::count(routing.position.begin(), routing.position.end(), std::int64_t{-1});
}

std::int64_t dropped_tokens(const Routing& routing) {
  std::int64_t dropped = 0;
  for (std::int64_t t = 0; t < routing.tokens; ++t) {
    bool any_kept = false;
    for (std::int64_t j = 0; j < routing.top_k; ++j)
      any_kept = any_kept || routing.kept(t * routing.top_k + j);
    if (!any_kept) ++dropped;
  }
  return dropped;
}

template <typename Scalar>
void combine_weights(const Routing& routing, const Scalar* probs, Scalar* weights) {
  const std::int64_t k = routing.top_k;
  for (std::int64_t t = 0; t < routing.tokens; ++t)
    shared::combine_weights_row(probs + t * routing.experts, routing.expert.data() + t * k,
                                routing.position.data() + t * k, k, weights + t * k);
}

template <typename Scalar>
void combine_weights_backward(const Routing& routing, const Scalar* probs, const Scalar* weights,
                              const Scalar* dweights, Scalar* dprobs) {
  const std::int64_t k = routing.top_k, e_count = routing.experts;
  for (std::int64_t t = 0; t < routing.tokens; ++t)
    shared::combine_weights_row_backward(probs + t * e_count, routing.expert.data() + t * k,
                                         routing.position.data() + t * k, weights + t * k, dweights + t * k,
                                         k, e_count, dprobs + t * e_count);
}

#define PARM_INSTANTIATE_ROUTING(Scalar)                                                              \
  template std::vector<std::int32_t> top_k_choices<Scalar>(const Scalar*, std::int64_t, std::int64_t, \
                                                           std::int64_t);                             \
  template Routing make_routing<Scalar>(const Scalar*, std::int64_t, std::int64_t, std::int64_t,      \
                                        std::int64_t);                                                \
  template void combine_weights<Scalar>(const Routing&, const Scalar*, Scalar*);                      \
  template void combine_weights_backward<Scalar>(const Routing&, const Scalar*, const Scalar*,        \
                                                 const Scalar*, Scalar*);

PARM_INSTANTIATE_ROUTING(float)
PARM_INSTANTIATE_ROUTING(double)
#undef PARM_INSTANTIATE_ROUTING

}  // namespace parm::kernels::cpu
