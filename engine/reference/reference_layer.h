// The single-process reference MoE layer (spec section 8): every MP group's S tokens go through the whole
// layer with full experts on one device. Schedules are checked against it; `parm run --ranks 1` times it.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/core/config.h"
#include "kernels/cpu/routing.h"
#include "profiler/phase_timer.h"

namespace parm {

// Global layouts of engine/tensor_init.h. Biases are empty when LayerConfig::bias is false, w3/b3 unless
// SwiGLU.
template <typename T>
struct LayerWeights {
  std::vector<T> wg;  // (M,E)
  std::vector<T> w1;  // (E,M,H)
  std::vector<T> b1;  // (E,H)
  std::vector<T> w3;  // (E,M,H)
  std::vector<T> b3;  // (E,H)
  std::vector<T> w2;  // (E,H,M)
  std::vector<T> b2;  // (E,M)
};

// Gradients of L = sum(out * dout), shaped like the tensors they belong to. Parameter gradients are summed
// over the groups (every group uses the same weights).
template <typename T>
struct LayerGradients {
  std::vector<T> dx;  // (groups,S,M)
  std::vector<T> dwg;
  std::vector<T> dw1;
  std::vector<T> db1;
  std::vector<T> dw3;
  std::vector<T> db3;
  std::vector<T> dw2;
  std::vector<T> db2;
};

template <typename T>
struct ReferenceForward {
  std::vector<T> out;                          // (groups,S,M)
  std::vector<kernels::cpu::Routing> routing;  // one per group
  std::int64_t capacity = 0;                   // C, the same for every group
};

template <typename T>
struct ReferenceResult {
  std::vector<T> out;  // (groups,S,M)
  LayerGradients<T> grads;
  std::vector<kernels::cpu::Routing> routing;
  std::int64_t capacity = 0;
};

template <typename T>
LayerWeights<T> make_weights(const LayerConfig& layer, std::uint64_t seed);
template <typename T>
std::vector<T> make_input(const LayerConfig& layer, std::int64_t groups, std::uint64_t seed);
template <typename T>
std::vector<T> make_output_grad(const LayerConfig& layer, std::int64_t groups, std::uint64_t seed);

// C for this layer: layer.capacity_of(S) (its capacity_rounding) with drop_tokens, otherwise the largest
// expert load over all groups (what the MAX all-reduce over the EP group agrees on in a distributed run).
std::int64_t reference_capacity(const LayerConfig& layer, const std::vector<kernels::cpu::Routing>& routings);

// Forward only (finite differences, fp32-vs-fp64 checks). Timer phases: "gate", "order", "experts",
// "combine".
template <typename T>
ReferenceForward<T> run_reference_forward(const LayerConfig& layer, std::int64_t groups,
                                          const LayerWeights<T>& weights, const std::vector<T>& x,
                                          profiler::PhaseTimer* timer = nullptr);

// Forward and backward. Extra timer phases: "combine_bwd", "experts_bwd", "order_bwd", "gate_bwd". The caller
// starts each timed iteration (PhaseTimer::begin_iteration); the groups' times of one phase add up.
template <typename T>
ReferenceResult<T> run_reference_layer(const LayerConfig& layer, std::int64_t groups,
                                       const LayerWeights<T>& weights, const std::vector<T>& x,
                                       const std::vector<T>& dout, profiler::PhaseTimer* timer = nullptr);

// The gate and routing alone, one per group, as run_reference_layer routes (a fraction of its cost).
template <typename T>
std::vector<kernels::cpu::Routing> run_reference_routing(const LayerConfig& layer, std::int64_t groups,
                                                         const LayerWeights<T>& weights,
                                                         const std::vector<T>& x);

// The same layer on a given routing instead of the gate's (one per group, each choice's expert and slot; one
// capacity for every group, every slot below it; throws std::invalid_argument otherwise): what a schedule
// that legitimately routes differently must compute (spec section 8, drop regime). Combine weights come from
// the reference's own probabilities over the given kept choices.
template <typename T>
ReferenceResult<T> run_reference_layer_on_routing(const LayerConfig& layer, std::int64_t groups,
                                                  const LayerWeights<T>& weights, const std::vector<T>& x,
                                                  const std::vector<T>& dout,
                                                  const std::vector<kernels::cpu::Routing>& routing);

// Floating-point operations of the matrix products (elementwise work is not counted):
// forward = gate 2*T*M*E (T = groups*S) + per group and expert 2 GEMMs (3 with SwiGLU) of 2*C*M*H;
// backward = 2 x forward (each GEMM has an input-gradient and a weight-gradient GEMM).
struct LayerFlops {
  double forward = 0;
  double backward = 0;
  double total() const { return forward + backward; }
};
LayerFlops layer_flops(const LayerConfig& layer, std::int64_t groups, std::int64_t capacity);

}  // namespace parm
