#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_types.cuh"
#include "kernels/cuda/gather_cuda.h"
#include "kernels/shared/gather_math.h"

namespace parm::kernels::cuda {
namespace {

// One thread per (choice, m): each kept slot has exactly one writer.
template <typename T>
__global__ void dispatch_kernel(const std::int32_t* expert, const std::int64_t* position,
                                std::int64_t choices, std::int64_t top_k, std::int64_t capacity,
                                std::int64_t hidden, const T* x, T* out) {
  const std::int64_t n = choices * hidden;
  for (std::int64_t i = global_thread(); i < n; i += grid_threads()) {
    const std::int64_t c = i / hidden, m = i % hidden;
    const std::int64_t target = shared::dispatch_target(expert[c], position[c], capacity, hidden, m);
    if (target >= 0) out[target] = x[(c / top_k) * hidden + m];
  }
}

// One thread per (token, m): the token's k choices are summed in order, so no atomics.
template <typename T, typename S>
__global__ void dispatch_backward_kernel(const std::int32_t* expert, const std::int64_t* position,
                                         std::int64_t tokens, std::int64_t top_k, std::int64_t capacity,
                                         std::int64_t hidden, const T* d_dispatched, T* dx) {
  const std::int64_t n = tokens * hidden;
  for (std::int64_t i = global_thread(); i < n; i += grid_threads()) {
    const std::int64_t t = i / hidden, m = i % hidden;
    dx[i] = T(shared::dispatch_backward_element<S>(d_dispatched, expert + t * top_k, position + t * top_k,
                                                   top_k, capacity, hidden, m));
  }
}

template <typename T, typename S>
__global__ void combine_kernel(const std::int32_t* expert, const std::int64_t* position, std::int64_t tokens,
                               std::int64_t top_k, std::int64_t capacity, std::int64_t hidden,
                               const T* weights, const T* y, T* out) {
  const std::int64_t n = tokens * hidden;
  for (std::int64_t i = global_thread(); i < n; i += grid_threads()) {
    const std::int64_t t = i / hidden, m = i % hidden;
    out[i] = T(shared::combine_element<S>(weights + t * top_k, y, expert + t * top_k, position + t * top_k,
                                          top_k, capacity, hidden, m));
  }
}

template <typename T, typename S>
__global__ void combine_backward_dy_kernel(const std::int32_t* expert, const std::int64_t* position,
                                           std::int64_t choices, std::int64_t top_k, std::int64_t capacity,
                                           std::int64_t hidden, const T* weights, const T* dout, T* dy) {
  const std::int64_t n = choices * hidden;
  for (std::int64_t i = global_thread(); i < n; i += grid_threads()) {
    const std::int64_t c = i / hidden, m = i % hidden;
    const std::int64_t target = shared::dispatch_target(expert[c], position[c], capacity, hidden, m);
    if (target >= 0)
      dy[target] = T(shared::combine_backward_dy<S>(weights[c], dout[(c / top_k) * hidden + m]));
  }
}

// One warp per choice: each lane sums its strided part of the dot product, then a shuffle reduction.
template <typename T, typename S>
__global__ void combine_backward_dweights_kernel(const std::int32_t* expert, const std::int64_t* position,
                                                 std::int64_t choices, std::int64_t top_k,
                                                 std::int64_t capacity, std::int64_t hidden, const T* y,
                                                 const T* dout, T* dweights) {
  const std::int64_t lane = threadIdx.x % 32;
  const std::int64_t warps = grid_threads() / 32;
  for (std::int64_t c = global_thread() / 32; c < choices; c += warps) {
    const std::int64_t row = shared::slot_row(expert[c], position[c], capacity);
    S acc = 0;
    if (row >= 0)
      acc = shared::strided_dot<S>(dout + (c / top_k) * hidden, y + row * hidden, lane, hidden, 32);
    for (int offset = 16; offset > 0; offset /= 2) acc += __shfl_down_sync(0xffffffffu, acc, offset);
    if (lane == 0) dweights[c] = T(acc);
  }
}

}  // namespace

template <typename T>
void dispatch(cudaStream_t stream, const DeviceRouting& r, const T* x, std::int64_t hidden, T* out) {
  const std::size_t bytes = sizeof(T) * static_cast<std::size_t>(r.experts * r.capacity * hidden);
  check_status(cudaMemsetAsync(out, 0, bytes, stream), "dispatch: cudaMemsetAsync");
  const std::int64_t n = r.tokens * r.top_k * hidden;
  if (n == 0) return;
  dispatch_kernel<<<grid_for(n), kThreads, 0, stream>>>(r.expert, r.position, r.tokens * r.top_k, r.top_k,
                                                        r.capacity, hidden, device_ptr(x), device_ptr(out));
  check_status(cudaGetLastError(), "dispatch kernel");
}

template <typename T>
void dispatch_backward(cudaStream_t stream, const DeviceRouting& r, const T* d_dispatched,
                       std::int64_t hidden, T* dx) {
  const std::int64_t n = r.tokens * hidden;
  if (n == 0) return;
  dispatch_backward_kernel<device_t<T>, math_t<T>><<<grid_for(n), kThreads, 0, stream>>>(
      r.expert, r.position, r.tokens, r.top_k, r.capacity, hidden, device_ptr(d_dispatched), device_ptr(dx));
  check_status(cudaGetLastError(), "dispatch_backward kernel");
}

template <typename T>
void combine(cudaStream_t stream, const DeviceRouting& r, const T* weights, const T* y, std::int64_t hidden,
             T* out) {
  const std::int64_t n = r.tokens * hidden;
  if (n == 0) return;
  combine_kernel<device_t<T>, math_t<T>>
      <<<grid_for(n), kThreads, 0, stream>>>(r.expert, r.position, r.tokens, r.top_k, r.capacity, hidden,
                                             device_ptr(weights), device_ptr(y), device_ptr(out));
  check_status(cudaGetLastError(), "combine kernel");
}

template <typename T>
void combine_backward(cudaStream_t stream, const DeviceRouting& r, const T* weights, const T* y,
                      const T* dout, std::int64_t hidden, T* dy, T* dweights) {
  const std::size_t bytes = sizeof(T) * static_cast<std::size_t>(r.experts * r.capacity * hidden);
  check_status(cudaMemsetAsync(dy, 0, bytes, stream), "combine_backward: cudaMemsetAsync");
  const std::int64_t choices = r.tokens * r.top_k;
  if (choices == 0) return;
  if (hidden > 0) {
    combine_backward_dy_kernel<device_t<T>, math_t<T>><<<grid_for(choices * hidden), kThreads, 0, stream>>>(
        r.expert, r.position, choices, r.top_k, r.capacity, hidden, device_ptr(weights), device_ptr(dout),
        device_ptr(dy));
    check_status(cudaGetLastError(), "combine_backward dy kernel");
  }
  combine_backward_dweights_kernel<device_t<T>, math_t<T>><<<grid_for(choices * 32), kThreads, 0, stream>>>(
      r.expert, r.position, choices, r.top_k, r.capacity, hidden, device_ptr(y), device_ptr(dout),
      device_ptr(dweights));
  check_status(cudaGetLastError(), "combine_backward dweights kernel");
}

#define PARM_INSTANTIATE_GATHER_CUDA(T)                                                               \
  template void dispatch<T>(cudaStream_t, const DeviceRouting&, const T*, std::int64_t, T*);          \
  template void dispatch_backward<T>(cudaStream_t, const DeviceRouting&, const T*, std::int64_t, T*); \
  template void combine<T>(cudaStream_t, const DeviceRouting&, const T*, const T*, std::int64_t, T*); \
  template void combine_backward<T>(cudaStream_t, const DeviceRouting&, const T*, const T*, const T*, \
                                    std::int64_t, T*, T*);

PARM_INSTANTIATE_GATHER_CUDA(float)
PARM_INSTANTIATE_GATHER_CUDA(double)
PARM_INSTANTIATE_GATHER_CUDA(parm::Bf16)
PARM_INSTANTIATE_GATHER_CUDA(parm::F16)
#undef PARM_INSTANTIATE_GATHER_CUDA

}  // namespace parm::kernels::cuda
