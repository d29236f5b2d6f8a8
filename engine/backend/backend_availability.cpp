#include "engine/backend/backend_availability.h"

#ifdef PARM_WITH_CUDA
#include "kernels/cuda/device_info.h"
#endif

namespace parm {

CudaAvailability probe_cuda() {
  CudaAvailability out;
#ifdef PARM_WITH_CUDA
  out.built = true;
  const kernels::cuda::DeviceProbe probe = kernels::cuda::probe_devices();
  out.devices = static_cast<int>(probe.devices.size());
  out.probe_error = probe.error;
#ifdef PARM_CUDA_ENGINE
  out.engine_built = true;  // the cuda backend is compiled in (engine/backend/cuda)
#endif
  for (const kernels::cuda::DeviceInfo& d : probe.devices) {  // the smallest bounds what every rank gets
    const auto bytes = static_cast<std::int64_t>(d.memory_bytes);
    if (out.device_memory_bytes == 0 || bytes < out.device_memory_bytes) {
      out.device_memory_bytes = bytes;
      out.device_name = d.name;
    }
  }
#endif
  return out;
}

std::optional<std::string> backend_unavailable(Backend backend, const CudaAvailability& cuda) {
  if (backend == Backend::Cpu) return std::nullopt;
  const std::string head = "backend " + std::string(to_string(backend)) + ": ";
  const std::string instead = "; use backend cpu";
  if (!cuda.built)
    return head + "this build has no CUDA support (configured without PARM_WITH_CUDA)" + instead;
  if (cuda.devices == 0)
    return head + "no CUDA device answers" +
           (cuda.probe_error.empty() ? std::string() : " (" + cuda.probe_error + ")") + instead;
  if (!cuda.engine_built)
    return head + "this build has no CUDA layer engine yet (only the cpu engine runs layers)" + instead;
  return std::nullopt;
}

std::optional<std::string> backend_unavailable(Backend backend) {
  if (backend == Backend::Cpu) return std::nullopt;
  return backend_unavailable(backend, probe_cuda());
}

}  // namespace parm
