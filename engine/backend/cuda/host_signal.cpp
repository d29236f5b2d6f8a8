#include "engine/backend/cuda/host_signal.h"

#include <cuda.h>  // driver types for the entry point only; nothing links libcuda

#include <mutex>

#include "engine/backend/cuda/cuda_parts.h"
#include "kernels/cuda/host_flag.h"

namespace parm::backend::cuda {
namespace {

using WaitValue32 = CUresult (*)(CUstream, CUdeviceptr, cuuint32_t, unsigned int);

// Resolved once per process; null where the driver lacks it. A refusal at the first use also turns it off.
std::atomic<WaitValue32> driver_wait{nullptr};

WaitValue32 resolve_driver_wait() {
  static std::once_flag once;
  std::call_once(once, [] {
    void* fn = nullptr;
    cudaDriverEntryPointQueryResult found{};
    if (cudaGetDriverEntryPointByVersion("cuStreamWaitValue32", &fn, 12000, cudaEnableDefault, &found) ==
            cudaSuccess &&
        found == cudaDriverEntryPointSuccess)
      driver_wait.store(reinterpret_cast<WaitValue32>(fn));
  });
  return driver_wait.load();
}

}  // namespace

HostSignal::HostSignal() {
  void* memory = nullptr;
  check_cuda(cudaHostAlloc(&memory, sizeof(std::uint32_t), cudaHostAllocMapped | cudaHostAllocPortable),
             "cudaHostAlloc of a host signal");
  host_ = static_cast<volatile std::uint32_t*>(memory);
  *host_ = 0;
  void* device = nullptr;
  if (const cudaError_t e = cudaHostGetDevicePointer(&device, memory, 0); e != cudaSuccess) {
    cudaFreeHost(memory);
    check_cuda(e, "cudaHostGetDevicePointer of a host signal");
  }
  device_ = static_cast<std::uint32_t*>(device);
  resolve_driver_wait();
}

HostSignal::~HostSignal() {
  cudaFreeHost(const_cast<std::uint32_t*>(host_));
}

bool HostSignal::uses_driver_wait() const {
  return driver_wait.load() != nullptr;
}

void HostSignal::enqueue_wait(cudaStream_t stream, std::uint32_t target) {
  if (WaitValue32 wait = driver_wait.load()) {
    const CUresult r = wait(reinterpret_cast<CUstream>(stream), reinterpret_cast<CUdeviceptr>(device_),
                            target, CU_STREAM_WAIT_VALUE_GEQ);
    if (r == CUDA_SUCCESS) return;
    driver_wait.store(nullptr);  // e.g. CUDA_ERROR_NOT_SUPPORTED: the kernel from now on
  }
  check_cuda(kernels::cuda::launch_host_flag_wait(stream, device_, target), "host flag wait kernel");
}

void HostSignal::raise(std::uint32_t value) {
  std::atomic_thread_fence(std::memory_order_release);  // staged bytes before the flag
  *host_ = value;
}

}  // namespace parm::backend::cuda
