#include <cuda_runtime.h>

#include "kernels/cuda/host_flag.h"

namespace parm::kernels::cuda {
namespace {

__global__ void wait_for_host_flag(const volatile std::uint32_t* flag, std::uint32_t target) {
  // Short sleeps: the host raises the flag once per collective, and a late wake-up delays the stream.
  while (!host_flag_reached(*flag, target)) __nanosleep(2000);
}

}  // namespace

cudaError_t launch_host_flag_wait(cudaStream_t stream, const volatile std::uint32_t* flag,
                                  std::uint32_t target) {
  wait_for_host_flag<<<1, 1, 0, stream>>>(flag, target);
  return cudaGetLastError();
}

}  // namespace parm::kernels::cuda
