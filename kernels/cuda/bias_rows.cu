#include <stdexcept>

#include "kernels/cuda/bias_rows.h"
#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/device_element.cuh"

namespace parm::kernels::cuda {
namespace {

template <typename S>
__global__ void broadcast_kernel(std::int64_t experts, std::int64_t rows, std::int64_t cols, const S* bias,
                                 S* out) {
  const std::int64_t n = experts * rows * cols;
  for (std::int64_t i = global_thread(); i < n; i += grid_threads())
    out[i] = bias[i / (rows * cols) * cols + i % cols];
}

// A 32 x 32 block sums 32 columns of one expert: thread (x, y) adds rows y, y + 32, ... of column x, then
// the 32 partial sums of each column are added in a fixed order.
constexpr int kTile = 32;

template <typename S>
__global__ void column_sum_kernel(std::int64_t rows, std::int64_t cols, const S* g, S* db) {
  using C = device::Compute<S>;
  __shared__ C partial[kTile][kTile + 1];
  const std::int64_t e = blockIdx.y;
  const std::int64_t col = blockIdx.x * static_cast<std::int64_t>(kTile) + threadIdx.x;
  C sum = C(0);
  if (col < cols) {
    const S* base = g + e * rows * cols + col;
    for (std::int64_t r = threadIdx.y; r < rows; r += kTile) sum += device::load(base[r * cols]);
  }
  partial[threadIdx.y][threadIdx.x] = sum;
  __syncthreads();
  if (threadIdx.y == 0 && col < cols) {
    C total = C(0);
    for (int y = 0; y < kTile; ++y) total += partial[y][threadIdx.x];
    db[e * cols + col] = device::store<S>(total);
  }
}

}  // namespace

void broadcast_bias_rows(cudaStream_t stream, ElementType type, std::int64_t experts, std::int64_t rows,
                         std::int64_t cols, const void* bias, void* out) {
  const std::int64_t n = experts * rows * cols;
  if (n == 0) return;
  device::dispatch(type, [&](auto tag) {
    using S = typename decltype(tag)::type;
    broadcast_kernel<S><<<grid_for(n), kThreads, 0, stream>>>(
        experts, rows, cols, static_cast<const S*>(bias), static_cast<S*>(out));
  });
  check_status(cudaGetLastError(), "broadcast_bias_rows launch");
}

void bias_gradient(cudaStream_t stream, ElementType type, std::int64_t experts, std::int64_t rows,
                   std::int64_t cols, const void* g, void* db) {
  if (experts == 0 || cols == 0) return;
  if (experts > 65535) throw std::invalid_argument("bias_gradient: more than 65535 experts");
  const dim3 grid(static_cast<unsigned>((cols + kTile - 1) / kTile), static_cast<unsigned>(experts));
  const dim3 block(kTile, kTile);
  device::dispatch(type, [&](auto tag) {
    using S = typename decltype(tag)::type;
    column_sum_kernel<S>
        <<<grid, block, 0, stream>>>(rows, cols, static_cast<const S*>(g), static_cast<S*>(db));
  });
  check_status(cudaGetLastError(), "bias_gradient launch");
}

}  // namespace parm::kernels::cuda
