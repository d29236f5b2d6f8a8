// Which CUDA devices this process can use. Links cudart only, so the binary starts on machines without a
// driver and reports "no device" instead of failing to load.
#pragma once

#include <string>
#include <vector>

namespace parm::kernels::cuda {

struct DeviceInfo {
  int ordinal = 0;
  std::string name;
  int compute_major = 0;
  int compute_minor = 0;
  std::size_t memory_bytes = 0;
  int multiprocessors = 0;
};

struct DeviceProbe {
  std::vector<DeviceInfo> devices;
  std::string error;  // why no device is usable ("no CUDA driver", ...), empty when devices were found
};

DeviceProbe probe_devices();

// Runs a small kernel on `ordinal` (y = a*x + y over n elements) and returns the max abs error against the
// host result, or a negative value with `error` set when the device cannot run it. Proves the toolchain end
// to end.
double saxpy_self_test(int ordinal, int n, std::string& error);

}  // namespace parm::kernels::cuda
