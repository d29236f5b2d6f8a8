// Routing on the device (spec section 2, step 2): expert loads, capacity slots in choice-major order, and
// the combine weights. The slots are exactly kernels/cpu's (kernels/shared/routing_math.h): histogram,
// exclusive scan (CUB), CUB's stable radix sort of the choice-major sequence by expert, and a position kernel
// without atomics. Scratch comes from the caller (position_scratch_bytes); nothing here allocates. Host API.
#pragma once

#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdint>

#include "kernels/cuda/math_type.h"
#include "kernels/half_types.h"

namespace parm::kernels::cuda {

// The largest k the per-token kernels hold in registers.
constexpr std::int64_t kMaxTopK = 32;

// One gate call's routing, in device memory (token-major choices: choice j of token t at t*k + j).
struct DeviceRouting {
  std::int64_t tokens = 0, experts = 0, top_k = 0;
  std::int64_t capacity = 0;         // slots per expert, set by assign_positions
  std::int32_t* expert = nullptr;    // T*k expert ids, best first
  std::int64_t* position = nullptr;  // T*k slots, -1 when dropped
  std::int64_t* loads = nullptr;     // E choices per expert, before dropping
};

// Loads of the choices (zeroed first): what the no-drop capacity is agreed from.
void count_expert_loads(cudaStream_t stream, const DeviceRouting& routing);

// Scratch bytes assign_positions needs for this many tokens, experts and k.
std::size_t position_scratch_bytes(std::int64_t tokens, std::int64_t experts, std::int64_t top_k);

// Slots for `capacity` from the choices and loads (count_expert_loads first); sets routing.capacity.
void assign_positions(cudaStream_t stream, DeviceRouting& routing, std::int64_t capacity, void* scratch,
                      std::size_t scratch_bytes);

// weights (T*k) of the kept choices from probs (T,E) in the math type (OVERWRITE; dropped choices get 0).
template <typename T>
void combine_weights(cudaStream_t stream, const DeviceRouting& routing, const math_t<T>* probs, T* weights);

}  // namespace parm::kernels::cuda
