#include <cuda_runtime.h>

#include <cmath>
#include <vector>

#include "kernels/cuda/device_info.h"

namespace parm::kernels::cuda {
namespace {

__global__ void saxpy(int n, float a, const float* x, float* y) {
  const int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = a * x[i] + y[i];
}

bool ok(cudaError_t status, std::string& error, const char* what) {
  if (status == cudaSuccess) return true;
  error = std::string(what) + ": " + cudaGetErrorString(status);
  return false;
}

}  // namespace

DeviceProbe probe_devices() {
  DeviceProbe probe;
  int count = 0;
  if (!ok(cudaGetDeviceCount(&count), probe.error, "cudaGetDeviceCount")) return probe;
  for (int d = 0; d < count; ++d) {
    cudaDeviceProp prop{};
    if (!ok(cudaGetDeviceProperties(&prop, d), probe.error, "cudaGetDeviceProperties")) continue;
    probe.devices.push_back(
        {d, prop.name, prop.major, prop.minor, prop.totalGlobalMem, prop.multiProcessorCount});
  }
  if (probe.devices.empty() && probe.error.empty()) probe.error = "no CUDA device";
  return probe;
}

double saxpy_self_test(int ordinal, int n, std::string& error) {
  if (!ok(cudaSetDevice(ordinal), error, "cudaSetDevice")) return -1.0;
  std::vector<float> x(n), y(n);
  for (int i = 0; i < n; ++i) {
    x[i] = 0.5f * static_cast<float>(i % 97);
    y[i] = 1.0f - static_cast<float>(i % 13);
  }
  float* dx = nullptr;
  float* dy = nullptr;
  const size_t bytes = sizeof(float) * static_cast<size_t>(n);
  double max_err = -1.0;
  if (ok(cudaMalloc(&dx, bytes), error, "cudaMalloc") && ok(cudaMalloc(&dy, bytes), error, "cudaMalloc") &&
      ok(cudaMemcpy(dx, x.data(), bytes, cudaMemcpyHostToDevice), error, "cudaMemcpy") &&
      ok(cudaMemcpy(dy, y.data(), bytes, cudaMemcpyHostToDevice), error, "cudaMemcpy")) {
    saxpy<<<(n + 255) / 256, 256>>>(n, 2.0f, dx, dy);
    std::vector<float> out(n);
    if (ok(cudaGetLastError(), error, "saxpy launch") &&
        ok(cudaMemcpy(out.data(), dy, bytes, cudaMemcpyDeviceToHost), error, "cudaMemcpy")) {
      max_err = 0.0;
      for (int i = 0; i < n; ++i) max_err = std::fmax(max_err, std::fabs(out[i] - (2.0f * x[i] + y[i])));
    }
  }
  cudaFree(dx);
  cudaFree(dy);
  return max_err;
}

}  // namespace parm::kernels::cuda
