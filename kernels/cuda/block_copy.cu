#include <cstdint>

#include "kernels/cuda/block_copy.h"
#include "kernels/cuda/cuda_status.h"
#include "kernels/cuda/device_element.cuh"

namespace parm::kernels::cuda {
namespace {

template <std::size_t Bytes>
struct Word;
template <>
struct Word<2> {
  using type = std::uint16_t;
};
template <>
struct Word<4> {
  using type = std::uint32_t;
};
template <>
struct Word<8> {
  using type = std::uint64_t;
};

template <typename W>
__global__ void block_copy_kernel(const W* src, W* dst, parm::layout::BlockCopy map) {
  const std::int64_t n = map.elements();
  for (std::int64_t k = device::first_index(); k < n; k += device::grid_stride()) {
    const std::int64_t block = k / map.length, j = k - block * map.length;
    dst[map.dst_offset(block) + j] = src[map.src_offset(block) + j];
  }
}

}  // namespace

template <std::size_t ElementBytes>
void block_copy(cudaStream_t stream, const void* src, void* dst, const parm::layout::BlockCopy& map) {
  const std::int64_t n = map.elements();
  if (n <= 0) return;
  using W = typename Word<ElementBytes>::type;
  block_copy_kernel<W><<<device::grid_for(n), device::kThreads, 0, stream>>>(static_cast<const W*>(src),
                                                                             static_cast<W*>(dst), map);
  check_status(cudaGetLastError(), "block_copy launch");
}

template void block_copy<2>(cudaStream_t, const void*, void*, const parm::layout::BlockCopy&);
template void block_copy<4>(cudaStream_t, const void*, void*, const parm::layout::BlockCopy&);
template void block_copy<8>(cudaStream_t, const void*, void*, const parm::layout::BlockCopy&);

}  // namespace parm::kernels::cuda
