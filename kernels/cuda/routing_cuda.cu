#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_scan.cuh>
#include <limits>
#include <stdexcept>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_types.cuh"
#include "kernels/cuda/routing_cuda.h"
#include "kernels/shared/combine_weight_math.h"
#include "kernels/shared/routing_math.h"

namespace parm::kernels::cuda {
namespace {

// Per-block histogram in shared memory, then one atomic per expert and block: integer counts, so the
// result does not depend on the order the atomics land in.
__global__ void histogram_kernel(const std::int32_t* expert, std::int64_t n, std::int64_t experts,
                                 unsigned long long* loads) {
  extern __shared__ unsigned int block_counts[];
  for (std::int64_t e = threadIdx.x; e < experts; e += blockDim.x) block_counts[e] = 0;
  __syncthreads();
  for (std::int64_t c = global_thread(); c < n; c += grid_threads()) atomicAdd(&block_counts[expert[c]], 1u);
  __syncthreads();
  for (std::int64_t e = threadIdx.x; e < experts; e += blockDim.x)
    if (block_counts[e] != 0) atomicAdd(&loads[e], static_cast<unsigned long long>(block_counts[e]));
}

// The choice-major sequence to sort: key = expert, value = choice-major index.
__global__ void choice_major_keys_kernel(const std::int32_t* expert, std::int64_t tokens, std::int64_t top_k,
                                         std::uint32_t* keys, std::int32_t* values) {
  const std::int64_t n = tokens * top_k;
  for (std::int64_t cm = global_thread(); cm < n; cm += grid_threads()) {
    keys[cm] = static_cast<std::uint32_t>(expert[shared::token_major_index(cm, tokens, top_k)]);
    values[cm] = static_cast<std::int32_t>(cm);
  }
}

// Sorted index i holds expert keys[i]'s choice values[i]; its slot is its rank inside that expert.
__global__ void position_kernel(const std::uint32_t* sorted_keys, const std::int32_t* sorted_values,
                                const std::int64_t* offsets, std::int64_t tokens, std::int64_t top_k,
                                std::int64_t capacity, std::int64_t* position) {
  const std::int64_t n = tokens * top_k;
  for (std::int64_t i = global_thread(); i < n; i += grid_threads()) {
    const std::int64_t c = shared::token_major_index(sorted_values[i], tokens, top_k);
    position[c] = shared::slot_of_sorted(i, offsets[sorted_keys[i]], capacity);
  }
}

template <typename T, typename S>
__global__ void combine_weights_kernel(const S* probs, const std::int32_t* expert,
                                       const std::int64_t* position, std::int64_t tokens,
                                       std::int64_t experts, std::int64_t top_k, T* weights) {
  for (std::int64_t t = global_thread(); t < tokens; t += grid_threads()) {
    S w[kMaxTopK];
    shared::combine_weights_row(probs + t * experts, expert + t * top_k, position + t * top_k, top_k, w);
    for (std::int64_t j = 0; j < top_k; ++j) weights[t * top_k + j] = T(w[j]);
  }
}

// Bits the radix sort looks at: enough for expert ids 0 .. experts-1.
int key_bits(std::int64_t experts) {
  int bits = 1;
  while ((std::int64_t{1} << bits) < experts) ++bits;
  return bits;
}

std::size_t aligned(std::size_t bytes) {
  return (bytes + 255) / 256 * 256;
}

// The scratch carve-up: four int32 arrays of n (keys and values, in and out), E int64 offsets, CUB's storage.
struct PositionScratch {
  std::uint32_t *keys_in, *keys_out;  // unsigned: the radix sort looks only at the low key bits
  std::int32_t *values_in, *values_out;
  std::int64_t* offsets;
  void* cub_storage;
  std::size_t cub_bytes;
};

std::size_t cub_bytes_for(std::int64_t n, std::int64_t experts) {
  std::size_t sort_bytes = 0, scan_bytes = 0;
  const int items = static_cast<int>(n);
  check_status(cub::DeviceRadixSort::SortPairs(
                   nullptr, sort_bytes, static_cast<const std::uint32_t*>(nullptr),
                   static_cast<std::uint32_t*>(nullptr), static_cast<const std::int32_t*>(nullptr),
                   static_cast<std::int32_t*>(nullptr), items, 0, key_bits(experts)),
               "cub::DeviceRadixSort::SortPairs (size)");
  check_status(cub::DeviceScan::ExclusiveSum(nullptr, scan_bytes, static_cast<const std::int64_t*>(nullptr),
                                             static_cast<std::int64_t*>(nullptr), static_cast<int>(experts)),
               "cub::DeviceScan::ExclusiveSum (size)");
  return std::max(sort_bytes, scan_bytes);
}

PositionScratch carve(void* scratch, std::int64_t n, std::int64_t experts) {
  auto* base = static_cast<char*>(scratch);
  const std::size_t ints = aligned(sizeof(std::int32_t) * static_cast<std::size_t>(n));
  PositionScratch s{};
  s.keys_in = reinterpret_cast<std::uint32_t*>(base);
  s.keys_out = reinterpret_cast<std::uint32_t*>(base + ints);
  s.values_in = reinterpret_cast<std::int32_t*>(base + 2 * ints);
  s.values_out = reinterpret_cast<std::int32_t*>(base + 3 * ints);
  s.offsets = reinterpret_cast<std::int64_t*>(base + 4 * ints);
  s.cub_storage = base + 4 * ints + aligned(sizeof(std::int64_t) * static_cast<std::size_t>(experts));
  s.cub_bytes = cub_bytes_for(n, experts);
  return s;
}

void check_choice_count(std::int64_t tokens, std::int64_t top_k) {
  if (tokens * top_k > std::numeric_limits<std::int32_t>::max())
    throw std::length_error("kernels/cuda routing: tokens * top_k must fit a 32-bit index");
}

}  // namespace

void count_expert_loads(cudaStream_t stream, const DeviceRouting& r) {
  check_status(
      cudaMemsetAsync(r.loads, 0, sizeof(std::int64_t) * static_cast<std::size_t>(r.experts), stream),
      "expert loads: cudaMemsetAsync");
  const std::int64_t n = r.tokens * r.top_k;
  if (n == 0) return;
  const std::size_t shared_bytes = sizeof(unsigned int) * static_cast<std::size_t>(r.experts);
  histogram_kernel<<<grid_for(n), kThreads, shared_bytes, stream>>>(
      r.expert, n, r.experts, reinterpret_cast<unsigned long long*>(r.loads));
  check_status(cudaGetLastError(), "expert loads: histogram kernel");
}

std::size_t position_scratch_bytes(std::int64_t tokens, std::int64_t experts, std::int64_t top_k) {
  check_choice_count(tokens, top_k);
  const std::int64_t n = tokens * top_k;
  return 4 * aligned(sizeof(std::int32_t) * static_cast<std::size_t>(n)) +
         aligned(sizeof(std::int64_t) * static_cast<std::size_t>(experts)) +
         aligned(cub_bytes_for(n, experts));
}

void assign_positions(cudaStream_t stream, DeviceRouting& r, std::int64_t capacity, void* scratch,
                      std::size_t scratch_bytes) {
  r.capacity = capacity;
  const std::int64_t n = r.tokens * r.top_k;
  if (n == 0) return;
  if (scratch_bytes < position_scratch_bytes(r.tokens, r.experts, r.top_k))
    throw std::logic_error("assign_positions: scratch smaller than position_scratch_bytes");
  PositionScratch s = carve(scratch, n, r.experts);
  check_status(cub::DeviceScan::ExclusiveSum(s.cub_storage, s.cub_bytes, r.loads, s.offsets,
                                             static_cast<int>(r.experts), stream),
               "assign_positions: exclusive scan");
  choice_major_keys_kernel<<<grid_for(n), kThreads, 0, stream>>>(r.expert, r.tokens, r.top_k, s.keys_in,
                                                                 s.values_in);
  check_status(cudaGetLastError(), "assign_positions: key kernel");
  // Radix sort is stable: equal experts keep their choice-major order, which is what makes the slots the
  // cpu's.
  check_status(
      cub::DeviceRadixSort::SortPairs(s.cub_storage, s.cub_bytes, s.keys_in, s.keys_out, s.values_in,
                                      s.values_out, static_cast<int>(n), 0, key_bits(r.experts), stream),
      "assign_positions: radix sort");
  position_kernel<<<grid_for(n), kThreads, 0, stream>>>(s.keys_out, s.values_out, s.offsets, r.tokens,
                                                        r.top_k, capacity, r.position);
  check_status(cudaGetLastError(), "assign_positions: position kernel");
}

template <typename T>
void combine_weights(cudaStream_t stream, const DeviceRouting& r, const math_t<T>* probs, T* weights) {
  if (r.top_k > kMaxTopK) throw std::invalid_argument("combine_weights: top_k above kMaxTopK");
  if (r.tokens == 0) return;
  combine_weights_kernel<device_t<T>, math_t<T>><<<grid_for(r.tokens), kThreads, 0, stream>>>(
      probs, r.expert, r.position, r.tokens, r.experts, r.top_k, device_ptr(weights));
  check_status(cudaGetLastError(), "combine_weights kernel");
}

template void combine_weights<float>(cudaStream_t, const DeviceRouting&, const float*, float*);
template void combine_weights<double>(cudaStream_t, const DeviceRouting&, const double*, double*);
template void combine_weights<parm::Bf16>(cudaStream_t, const DeviceRouting&, const float*, parm::Bf16*);
template void combine_weights<parm::F16>(cudaStream_t, const DeviceRouting&, const float*, parm::F16*);

}  // namespace parm::kernels::cuda
