#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/gemm_pointers.h"

namespace parm::kernels::cuda {
namespace {

__global__ void fill_pointers(GemmPointerPlan plan, void** pointers, std::int64_t capacity,
                              std::int64_t total) {
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i >= total) return;
  for (int o = 0; o < 3; ++o) pointers[o * capacity + i] = plan.pointer(i, o);
}

}  // namespace

void fill_gemm_pointers(cudaStream_t stream, const GemmPointerPlan& plan, void** pointers,
                        std::int64_t capacity) {
  const std::int64_t total = plan.products();
  if (total == 0) return;
  const int threads = 128;
  const auto blocks = static_cast<unsigned>((total + threads - 1) / threads);
  fill_pointers<<<blocks, threads, 0, stream>>>(plan, pointers, capacity, total);
  check_status(cudaGetLastError(), "fill_gemm_pointers launch");
}

}  // namespace parm::kernels::cuda
