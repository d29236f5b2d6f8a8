#include "engine/backend/cuda/cuda_device.h"

#include <cuda_runtime_api.h>

#include <array>
#include <cstring>
#include <stdexcept>
#include <string>

#include "engine/backend/cuda/cuda_parts.h"
#include "engine/backend/cuda/device_selection.h"
#include "engine/backend/cuda/device_text.h"

namespace parm::backend::cuda {
namespace {

// cudaDeviceGetAttribute, 0 where the device does not say (clock rates left cudaDeviceProp in CUDA 13).
std::int64_t attribute(cudaDeviceAttr which, int ordinal) {
  int value = 0;
  return cudaDeviceGetAttribute(&value, which, ordinal) == cudaSuccess ? value : 0;
}

}  // namespace

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
  d.bus_location = pci_bus_text(prop.pciDomainID, prop.pciBusID, prop.pciDeviceID);
  std::array<unsigned char, 16> uuid{};
  static_assert(sizeof prop.uuid.bytes == uuid.size());
  std::memcpy(uuid.data(), prop.uuid.bytes, uuid.size());
  d.uuid = gpu_uuid_text(uuid);
  d.sm_count = prop.multiProcessorCount;
  d.compute_major = prop.major;
  d.compute_minor = prop.minor;
  d.clock_rate_khz = attribute(cudaDevAttrClockRate, ordinal);
  d.memory_bandwidth_bytes_s = memory_bandwidth_bytes_s(attribute(cudaDevAttrMemoryClockRate, ordinal),
                                                        attribute(cudaDevAttrGlobalMemoryBusWidth, ordinal));
  d.l2_cache_bytes = prop.l2CacheSize;
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
