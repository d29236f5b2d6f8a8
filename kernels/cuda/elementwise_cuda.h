// Elementwise ops of the cuda backend: scale (the gradient redundancy scaling), accumulate (a
// chunk's gradients), plain copy, and every layout
// transform of kernels/layout_index.h as one kernel (output element k belongs to block k / length). Host
// API, storage types float, double, parm::Bf16, parm::F16.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

#include "kernels/layout_index.h"

namespace parm::kernels::cuda {

// values[0, count) *= factor, in the math type.
template <typename T>
void scale(cudaStream_t stream, T* values, std::int64_t count, T factor);

// into[0, count) += part[0, count), in the math type.
template <typename T>
void accumulate(cudaStream_t stream, const T* part, T* into, std::int64_t count);

// dst[0, count) = src[0, count) (cudaMemcpyAsync, device to device).
template <typename T>
void copy(cudaStream_t stream, const T* src, T* dst, std::int64_t count);

// dst[map.dst_offset(i) + o] = src[map.src_offset(i) + o] for every block i and offset o < map.length.
template <typename T>
void copy_blocks(cudaStream_t stream, const T* src, T* dst, const layout::BlockCopy& map);

}  // namespace parm::kernels::cuda
