// CUPTI activity capture on a device, through the cuda backend's start_activity_capture(): kernels, a copy
// and a memset launched inside push_launch(7)/pop_launch carry launch_id 7, one kernel outside carries 0;
// names, streams and times are sane (inside the host range of launch..sync on profiler::now_ns's clock),
// nothing is dropped, and each kernel's runtime call shares its correlation id. Also the device's GPU
// properties (DeviceDescription). Exits 77 without a device.
#include <cuda_runtime_api.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "engine/backend/cuda/cuda_backend.h"
#include "kernels/cuda/device_info.h"
#include "kernels/cuda/elementwise_cuda.h"
#include "profiler/op_tracer.h"
#include "tests/support/gpu_check.h"

using namespace parm;
using profiler::GpuActivity;

namespace {

constexpr std::int64_t kSlackNs = 50'000;  // GPU timestamps vs the host range around them
constexpr std::int64_t kCount = 1 << 22;   // 16 MiB of floats: each kernel runs some microseconds
constexpr std::size_t kBytes = kCount * sizeof(float);

bool ok(cudaError_t status, const char* what) {
  if (status == cudaSuccess) return true;
  parm_gpu_test::fail(__FILE__, __LINE__, std::string(what) + ": " + cudaGetErrorString(status));
  return false;
}

std::unique_ptr<backend::Backend> cuda_backend() {
  backend::BackendOptions options;
  options.kind = parm::Backend::Cuda;
  return backend::cuda::make_cuda_backend(options);
}

std::string describe(const profiler::GpuKernelRecord& k, const GpuActivity& a) {
  return a.names.at(static_cast<std::size_t>(k.name)) + " launch " + std::to_string(k.launch_id) + " [" +
         std::to_string(k.start_ns) + ", " + std::to_string(k.end_ns) + "]";
}

// Device memory and a stream of the test's own, freed on every path.
struct Work {
  cudaStream_t stream = nullptr;
  float* a = nullptr;
  float* b = nullptr;
  float* host = nullptr;
  bool ready = false;
  Work() {
    ready = ok(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate") &&
            ok(cudaMalloc(reinterpret_cast<void**>(&a), kBytes), "cudaMalloc") &&
            ok(cudaMalloc(reinterpret_cast<void**>(&b), kBytes), "cudaMalloc") &&
            ok(cudaMallocHost(reinterpret_cast<void**>(&host), kBytes), "cudaMallocHost") &&
            ok(cudaMemsetAsync(a, 0, kBytes, stream), "cudaMemsetAsync") &&
            ok(cudaMemsetAsync(b, 0, kBytes, stream), "cudaMemsetAsync") &&
            ok(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    if (host) std::fill(host, host + kCount, 1.0f);
  }
  ~Work() {
    if (stream) cudaStreamSynchronize(stream);
    cudaFree(a);
    cudaFree(b);
    cudaFreeHost(host);
    if (stream) cudaStreamDestroy(stream);
  }
};

}  // namespace

PARM_GPU_CASE(kernelsCopiesAndMemsetsJoinTheirLaunch) {
  const std::unique_ptr<backend::Backend> backend = cuda_backend();
  const std::unique_ptr<backend::ActivityCapture> capture = backend->start_activity_capture();
  PARM_CHECK(capture != nullptr, "the cuda backend has a capture");
  if (!capture) return;
  PARM_CHECK(capture->unavailable().empty(), capture->unavailable());
  if (!capture->unavailable().empty()) return;
  Work work;
  if (!work.ready) return;
  // Warm-up: the kernel's module loads lazily on first launch; its records are drained here.
  kernels::cuda::scale(work.stream, work.a, kCount, 1.0f);
  if (!ok(cudaStreamSynchronize(work.stream), "warm-up sync")) return;
  GpuActivity warm;
  capture->collect(warm);

  const std::int64_t host_before = profiler::now_ns();
  capture->push_launch(7);
  for (int i = 0; i < 3; ++i) kernels::cuda::scale(work.stream, work.a, kCount, 1.5f);
  ok(cudaMemcpyAsync(work.b, work.host, kBytes, cudaMemcpyHostToDevice, work.stream), "cudaMemcpyAsync");
  ok(cudaMemsetAsync(work.a, 0, kBytes, work.stream), "cudaMemsetAsync");
  capture->pop_launch();
  kernels::cuda::scale(work.stream, work.b, kCount, 2.0f);  // outside any op
  if (!ok(cudaStreamSynchronize(work.stream), "cudaStreamSynchronize")) return;
  const std::int64_t host_after = profiler::now_ns();

  GpuActivity out;
  capture->collect(out);
  PARM_CHECK(out.unavailable.empty(), out.unavailable);
  PARM_CHECK(out.dropped_records == 0, std::to_string(out.dropped_records) + " dropped");
  PARM_CHECK(out.process_id == static_cast<std::uint32_t>(getpid()), std::to_string(out.process_id));
  PARM_CHECK(out.kernels.size() == 4, std::to_string(out.kernels.size()) + " kernels");
  std::sort(out.kernels.begin(), out.kernels.end(),
            [](const auto& x, const auto& y) { return x.start_ns < y.start_ns; });
  for (std::size_t i = 0; i < out.kernels.size(); ++i) {
    const auto& k = out.kernels[i];
    const std::string what = describe(k, out);
    PARM_CHECK(k.launch_id == (i < 3 ? 7 : 0), what);
    PARM_CHECK(!out.names.at(static_cast<std::size_t>(k.name)).empty(), what);
    PARM_CHECK(out.names.at(static_cast<std::size_t>(k.name)).find("scale_kernel") != std::string::npos,
               what);
    PARM_CHECK(k.start_ns <= k.end_ns, what);
    PARM_CHECK(k.start_ns >= host_before - kSlackNs, what + " before host " + std::to_string(host_before));
    PARM_CHECK(k.end_ns <= host_after + kSlackNs, what + " after host " + std::to_string(host_after));
    PARM_CHECK(k.grid_x > 0 && k.block_x > 0, what);
    PARM_CHECK(k.stream_id == out.kernels[0].stream_id, what + ": one stream");
    // Its launch call, with the same correlation id, ran on the host before the kernel ended.
    const auto call = std::find_if(out.runtime.begin(), out.runtime.end(),
                                   [&](const auto& r) { return r.correlation_id == k.correlation_id; });
    PARM_CHECK(call != out.runtime.end(), what + ": no runtime record with its correlation id");
    if (call != out.runtime.end()) {
      const std::string& name = out.names.at(static_cast<std::size_t>(call->name));
      PARM_CHECK(name.starts_with("cudaLaunchKernel"), what + ": launched by " + name);
      PARM_CHECK(call->start_ns >= host_before - kSlackNs && call->end_ns <= host_after + kSlackNs, what);
      PARM_CHECK(call->start_ns <= k.end_ns, what + ": launched at " + std::to_string(call->start_ns));
    }
  }
  const auto copy = std::find_if(out.memcpys.begin(), out.memcpys.end(),
                                 [](const auto& m) { return m.bytes == static_cast<std::int64_t>(kBytes); });
  PARM_CHECK(copy != out.memcpys.end(), std::to_string(out.memcpys.size()) + " copies");
  if (copy != out.memcpys.end()) {
    PARM_CHECK(copy->launch_id == 7, std::to_string(copy->launch_id));
    PARM_CHECK(copy->copy_kind == 1, "copyKind " + std::to_string(copy->copy_kind));  // HtoD
    PARM_CHECK(copy->start_ns <= copy->end_ns && copy->start_ns >= host_before - kSlackNs &&
                   copy->end_ns <= host_after + kSlackNs,
               std::to_string(copy->start_ns));
  }
  const auto set = std::find_if(out.memsets.begin(), out.memsets.end(),
                                [](const auto& m) { return m.bytes == static_cast<std::int64_t>(kBytes); });
  PARM_CHECK(set != out.memsets.end(), std::to_string(out.memsets.size()) + " memsets");
  if (set != out.memsets.end()) {
    PARM_CHECK(set->launch_id == 7, std::to_string(set->launch_id));
    PARM_CHECK(set->start_ns <= set->end_ns && set->end_ns <= host_after + kSlackNs,
               std::to_string(set->end_ns));
  }
  std::printf("captured %zu kernels, %zu copies, %zu memsets, %zu runtime calls, %zu overheads\n",
              out.kernels.size(), out.memcpys.size(), out.memsets.size(), out.runtime.size(),
              out.overheads.size());

  // Everything was handed out: a second collect brings no kernel again.
  GpuActivity again;
  capture->collect(again);
  PARM_CHECK(again.kernels.empty(), std::to_string(again.kernels.size()) + " kernels twice");
}

PARM_GPU_CASE(oneCaptureAtATime) {
  const std::unique_ptr<backend::Backend> backend = cuda_backend();
  {
    const auto first = backend->start_activity_capture();
    PARM_CHECK(first->unavailable().empty(), first->unavailable());
    const auto second = backend->start_activity_capture();
    PARM_CHECK(second->unavailable().starts_with("CUPTI unavailable: another capture is live"),
               second->unavailable());
  }
  // The first one gone, the next starts and captures.
  const auto next = backend->start_activity_capture();
  PARM_CHECK(next->unavailable().empty(), next->unavailable());
  Work work;
  if (!work.ready) return;
  next->push_launch(11);
  kernels::cuda::scale(work.stream, work.a, kCount, 1.0f);
  next->pop_launch();
  if (!ok(cudaStreamSynchronize(work.stream), "cudaStreamSynchronize")) return;
  GpuActivity out;
  next->collect(out);
  PARM_CHECK(out.kernels.size() == 1, std::to_string(out.kernels.size()) + " kernels");
  if (!out.kernels.empty())
    PARM_CHECK(out.kernels[0].launch_id == 11, std::to_string(out.kernels[0].launch_id));
}

PARM_GPU_CASE(deviceDescriptionHasGpuProperties) {
  const backend::DeviceDescription d = cuda_backend()->device();
  std::printf("%s: %s %s, %d SMs, sm_%d%d, %lld kHz, %lld B/s, L2 %lld B, %s\n", d.name.c_str(),
              d.bus_location.c_str(), d.uuid.c_str(), d.sm_count, d.compute_major, d.compute_minor,
              static_cast<long long>(d.clock_rate_khz), static_cast<long long>(d.memory_bandwidth_bytes_s),
              static_cast<long long>(d.l2_cache_bytes), d.comm_library.c_str());
  PARM_CHECK(d.bus_location.size() == 12 && d.bus_location[4] == ':' && d.bus_location.ends_with(".0"),
             d.bus_location);
  PARM_CHECK(d.uuid.size() == 40 && d.uuid.starts_with("GPU-"), d.uuid);
  PARM_CHECK(d.sm_count > 0 && d.compute_major >= 7, std::to_string(d.sm_count));
  PARM_CHECK(d.clock_rate_khz > 100'000, std::to_string(d.clock_rate_khz));
  PARM_CHECK(d.l2_cache_bytes > (1 << 20), std::to_string(d.l2_cache_bytes));
  // Memory clock and bus width may be unreported (0); when reported, an HBM GPU has TB/s.
  PARM_CHECK(d.memory_bandwidth_bytes_s == 0 || d.memory_bandwidth_bytes_s > 100'000'000'000LL,
             std::to_string(d.memory_bandwidth_bytes_s));
#if PARM_WITH_NCCL
  PARM_CHECK(d.comm_library.starts_with("NCCL 2."), d.comm_library);
#endif
}

int main() {
  const kernels::cuda::DeviceProbe probe = kernels::cuda::probe_devices();
  return parm_gpu_test::run_all(probe.devices.empty() ? probe.error : std::string());
}
