// The CUDA toolchain end to end: a device is found and a kernel computes the host's answer. Exits 77
// (skipped) where no device exists, as on CI.
#include "kernels/cuda/device_info.h"
#include "tests/support/gpu_check.h"

using namespace parm::kernels::cuda;

PARM_GPU_CASE(devicePropertiesAreSane) {
  const DeviceProbe probe = probe_devices();
  PARM_CHECK(!probe.devices.empty(), probe.error);
  for (const auto& d : probe.devices) {
    PARM_CHECK(d.compute_major >= 7, d.name);
    PARM_CHECK(d.memory_bytes > (1ull << 30), d.name);
    PARM_CHECK(d.multiprocessors > 0, d.name);
  }
}

PARM_GPU_CASE(saxpyMatchesHost) {
  for (int n : {200, 1000003}) {  // one block; a ragged tail
    std::string error;
    const double err = saxpy_self_test(0, n, error);
    PARM_CHECK(err >= 0.0, error);
    PARM_CHECK(err == 0.0, "n = " + std::to_string(n) + ": max error " + std::to_string(err));
  }
}

int main() {
  const DeviceProbe probe = probe_devices();
  return parm_gpu_test::run_all(probe.devices.empty() ? probe.error : std::string());
}
