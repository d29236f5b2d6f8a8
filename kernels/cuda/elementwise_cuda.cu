#include <cstdint>
#include <cstring>

#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_types.cuh"
#include "kernels/cuda/elementwise_cuda.h"
#include "kernels/cuda/math_type.h"
#include "kernels/shared/block_copy_math.h"
#include "kernels/shared/gather_math.h"

namespace parm::kernels::cuda {
namespace {

template <typename T, typename S>
__global__ void scale_kernel(T* values, std::int64_t count, T factor) {
  for (std::int64_t i = global_thread(); i < count; i += grid_threads())
    values[i] = T(shared::scaled<S>(values[i], factor));
}

template <typename T, typename S>
__global__ void accumulate_kernel(const T* part, T* into, std::int64_t count) {
  for (std::int64_t i = global_thread(); i < count; i += grid_threads())
    into[i] = T(shared::summed<S>(into[i], part[i]));
}

// Moves elements as unsigned words of the storage size: a copy needs no arithmetic, so one instantiation
// per width serves every type.
template <typename Word>
__global__ void copy_blocks_kernel(const Word* src, Word* dst, layout::BlockCopy map) {
  const std::int64_t n = map.elements();
  for (std::int64_t k = global_thread(); k < n; k += grid_threads()) {
    const shared::ElementCopy e = shared::block_copy_element(map, k);
    dst[e.dst] = src[e.src];
  }
}

template <std::size_t Bytes>
struct WordOf;
template <>
struct WordOf<2> {
  using type = std::uint16_t;
};
template <>
struct WordOf<4> {
  using type = std::uint32_t;
};
template <>
struct WordOf<8> {
  using type = std::uint64_t;
};

}  // namespace

template <typename T>
void scale(cudaStream_t stream, T* values, std::int64_t count, T factor) {
  if (count == 0) return;
  using D = device_t<T>;
  D device_factor;
  static_assert(sizeof(D) == sizeof(T));
  std::memcpy(&device_factor, &factor, sizeof(T));
  scale_kernel<D, math_t<T>>
      <<<grid_for(count), kThreads, 0, stream>>>(device_ptr(values), count, device_factor);
  check_status(cudaGetLastError(), "scale kernel");
}

template <typename T>
void accumulate(cudaStream_t stream, const T* part, T* into, std::int64_t count) {
  if (count == 0) return;
  accumulate_kernel<device_t<T>, math_t<T>>
      <<<grid_for(count), kThreads, 0, stream>>>(device_ptr(part), device_ptr(into), count);
  check_status(cudaGetLastError(), "accumulate kernel");
}

template <typename T>
void copy(cudaStream_t stream, const T* src, T* dst, std::int64_t count) {
  if (count == 0) return;
  check_status(cudaMemcpyAsync(dst, src, sizeof(T) * static_cast<std::size_t>(count),
                               cudaMemcpyDeviceToDevice, stream),
               "copy: cudaMemcpyAsync");
}

template <typename T>
void copy_blocks(cudaStream_t stream, const T* src, T* dst, const layout::BlockCopy& map) {
  if (map.elements() == 0) return;
  using Word = typename WordOf<sizeof(T)>::type;
  copy_blocks_kernel<Word><<<grid_for(map.elements()), kThreads, 0, stream>>>(
      reinterpret_cast<const Word*>(src), reinterpret_cast<Word*>(dst), map);
  check_status(cudaGetLastError(), "copy_blocks kernel");
}

#define PARM_INSTANTIATE_ELEMENTWISE_CUDA(T)                             \
  template void scale<T>(cudaStream_t, T*, std::int64_t, T);             \
  template void accumulate<T>(cudaStream_t, const T*, T*, std::int64_t); \
  template void copy<T>(cudaStream_t, const T*, T*, std::int64_t);       \
  template void copy_blocks<T>(cudaStream_t, const T*, T*, const layout::BlockCopy&);

PARM_INSTANTIATE_ELEMENTWISE_CUDA(float)
PARM_INSTANTIATE_ELEMENTWISE_CUDA(double)
PARM_INSTANTIATE_ELEMENTWISE_CUDA(parm::Bf16)
PARM_INSTANTIATE_ELEMENTWISE_CUDA(parm::F16)
#undef PARM_INSTANTIATE_ELEMENTWISE_CUDA

}  // namespace parm::kernels::cuda
