#include "engine/backend/cuda/cuda_device.h"

#include <cuda_runtime_api.h>

#include <stdexcept>
#include <string>

#include "engine/backend/cuda/cuda_parts.h"
#include "engine/backend/cuda/device_selection.h"

namespace parm::backend::cuda {

DeviceDescription describe_cuda_device(int ordinal) {
  cudaDeviceProp prop{};
  check_cuda(cudaGetDeviceProperties(&prop, ordinal), "cudaGetDeviceProperties");
  int driver = 0, runtime = 0;
  check_cuda(cudaDriverGetVersion(&driver), "cudaDriverGetVersion");
  check_cuda(cudaRuntimeGetVersion(&runtime), "cudaRuntimeGetVersion");
  DeviceDescription d;
  d.name = prop.name;
  d.ordinal = ordinal;
  d.memory_bytes = static_cast<std::int64_t>(prop.totalGlobalMem);
  d.driver = cuda_driver_text(driver, runtime);
  return d;
}

int cuda_device_count(parm::Backend kind) {
  int count = 0;
  const cudaError_t status = cudaGetDeviceCount(&count);
  const std::string head = "backend " + std::string(to_string(kind)) + ": no CUDA device answers";
  if (status != cudaSuccess)
    throw std::runtime_error(head + " (cudaGetDeviceCount: " + cudaGetErrorString(status) +
                             "); use backend cpu");
  if (count == 0) throw std::runtime_error(head + "; use backend cpu");
  return count;
}

}  // namespace parm::backend::cuda
