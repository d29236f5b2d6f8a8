// Top-k expert choice, capacity-limited slot assignment and the combine weights (spec section 2, step 2).
// The routing is plain integers, so every backend and schedule can share and compare it.
#pragma once

#include <cstdint>
#include <vector>

namespace parm::kernels::cpu {

struct Routing {
  std::int64_t tokens = 0;    // T
  std::int64_t experts = 0;   // E
  std::int64_t top_k = 0;     // k
  std::int64_t capacity = 0;  // C: slots per expert
  // Choice j of token t sits at t*k + j; j = 0 is the highest probability (ties: lower expert index first).
  std::vector<std::int32_t> expert;
  // Slot of choice t*k + j inside its expert, -1 when the choice is dropped (slot >= capacity).
  std::vector<std::int64_t> position;
  // Load of each expert over all choices, before dropping (what the no-drop capacity is agreed from).
  std::vector<std::int64_t> tokens_per_expert;

  bool kept(std::int64_t choice) const { return position[static_cast<std::size_t>(choice)] >= 0; }
};

// The k highest-probability experts of each token of probs (T,E), best first, ties to the lower index.
template <typename Scalar>
std::vector<std::int32_t> top_k_choices(const Scalar* probs, std::int64_t tokens, std::int64_t experts,
                                        std::int64_t top_k);

// Number of choices (T*k of them) that picked each expert.
std::vector<std::int64_t> expert_loads(const std::vector<std::int32_t>& choices, std::int64_t experts);

// Slots, choice-major: all first choices in token order, then all second choices, ... A choice whose slot
// would be >= capacity is dropped (-1), so a token's first choice wins over other tokens' second choices.
std::vector<std::int64_t> assign_positions(const std::vector<std::int32_t>& choices, std::int64_t tokens,
                                           std::int64_t experts, std::int64_t top_k, std::int64_t capacity);

// Routing from already made choices (the no-drop capacity needs every group's loads before slots exist).
Routing route_choices(std::vector<std::int32_t> choices, std::int64_t tokens, std::int64_t experts,
                      std::int64_t top_k, std::int64_t capacity);

// top_k_choices + expert_loads + assign_positions.
template <typename Scalar>
Routing make_routing(const Scalar* probs, std::int64_t tokens, std::int64_t experts, std::int64_t top_k,
                     std::int64_t capacity);

// Choices dropped for lack of capacity, and tokens that lost every choice (their output is zero).
std::int64_t dropped_choices(const Routing& routing);
std::int64_t dropped_tokens(const Routing& routing);

// Combine weights (T*k) of the kept choices; dropped choices get 0.
//   k == 1: the chosen expert's probability (Switch / DeepSpeed top-1; renormalising one choice would make
//           it 1 and cut the router's gradient).
//   k >= 2: the kept choices' probabilities renormalised to sum 1 (DeepSpeed top-2, Mixtral).
template <typename Scalar>
void combine_weights(const Routing& routing, const Scalar* probs, Scalar* weights);

// Backward of combine_weights: dprobs (T,E) from dweights (T*k), OVERWRITE; zero for experts not kept.
// k >= 2, Sum = sum of kept probs: dp_i = (dw_i - sum_j dw_j w_j) / Sum for each kept i.
template <typename Scalar>
void combine_weights_backward(const Routing& routing, const Scalar* probs, const Scalar* weights,
                              const Scalar* dweights, Scalar* dprobs);

}  // namespace parm::kernels::cpu
