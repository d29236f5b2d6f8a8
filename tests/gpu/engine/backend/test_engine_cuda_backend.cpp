// The cuda backend's shell on a device (engine/backend/cuda: streams, events, event clock, caching
// allocator, device description), without its compute and communication parts: work on the streams is
// cudaMemsetAsync / cudaMemcpyAsync, whose results show the order they ran in. Exits 77 without a device.
#include <cuda_runtime_api.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "engine/backend/cuda/caching_allocator.h"
#include "engine/backend/cuda/cuda_device.h"
#include "engine/backend/cuda/cuda_parts.h"
#include "engine/backend/cuda/cuda_streams.h"
#include "engine/backend/cuda/device_allocator.h"
#include "engine/backend/cuda/device_selection.h"
#include "engine/backend/cuda/event_clock.h"
#include "kernels/cuda/device_info.h"
#include "profiler/op_tracer.h"
#include "tests/support/gpu_check.h"

using namespace parm::backend;
using namespace parm::backend::cuda;
using parm::Lane;

namespace {

constexpr int kDevice = 0;
constexpr std::size_t kBig = std::size_t{512} << 20;  // 512 MiB: a copy of it takes ~0.1-0.5 ms
// Event host times come from an anchor whose host time is the midpoint of a bracket of a few microseconds.
constexpr std::int64_t kClockSlackNs = 200'000;

// The device, its streams and a device allocator, as the backend makes them.
struct Shell {
  DeviceRawAllocator raw{kDevice};
  CachingAllocator memory{raw};
  EventClock clock{kDevice};
  CudaStream compute{Lane::Compute, kDevice, clock};
  CudaStream intra{Lane::Intra, kDevice, clock};
  CudaStream inter{Lane::Inter, kDevice, clock};
};

std::vector<unsigned char> to_host(CachingAllocator& memory, const void* device, std::size_t bytes) {
  std::vector<unsigned char> host(bytes);
  memory.copy_to_host(host.data(), device, bytes);
  return host;
}

bool all_equal(const std::vector<unsigned char>& bytes, unsigned char value) {
  for (unsigned char b : bytes)
    if (b != value) return false;
  return true;
}

class OtherStream final : public Stream {
 public:
  Lane lane() const override { return Lane::Compute; }
  void record(Event&) override {}
  void wait(Event&) override {}
  void synchronize() override {}
};

}  // namespace

PARM_GPU_CASE(deviceIsNamed) {
  BackendOptions options;
  options.kind = parm::Backend::Cuda;
  const int count = cuda_device_count(options.kind);
  PARM_CHECK(count >= 1, std::to_string(count));
  PARM_CHECK(select_device_ordinal(options, count) == 0, "local rank 0 takes device 0");
  const DeviceDescription d = describe_cuda_device(kDevice);
  std::printf("device: %s, %lld bytes, %s\n", d.name.c_str(), static_cast<long long>(d.memory_bytes),
              d.driver.c_str());
  PARM_CHECK(!d.name.empty(), "no name");
  PARM_CHECK(d.ordinal == kDevice, std::to_string(d.ordinal));
  PARM_CHECK(d.memory_bytes > (std::int64_t{1} << 30), std::to_string(d.memory_bytes));
  PARM_CHECK(d.driver.rfind("CUDA driver ", 0) == 0 && d.driver.find(", runtime ") != std::string::npos,
             d.driver);
}

PARM_GPU_CASE(streamRunsInOrder) {
  Shell s;
  const std::size_t n = std::size_t{64} << 20;
  Buffer<unsigned char> x(s.memory, n), y(s.memory, n), z(s.memory, n);
  cudaStream_t c = cuda_stream_of(s.compute);
  check_cuda(cudaMemsetAsync(x.data(), 1, n, c), "memset");
  check_cuda(cudaMemcpyAsync(y.data(), x.data(), n, cudaMemcpyDeviceToDevice, c), "copy");
  check_cuda(cudaMemsetAsync(x.data(), 2, n, c), "memset");
  check_cuda(cudaMemcpyAsync(z.data(), x.data(), n, cudaMemcpyDeviceToDevice, c), "copy");
  s.compute.synchronize();
  PARM_CHECK(all_equal(to_host(s.memory, y.data(), n), 1), "y saw x's second value: work ran out of order");
  PARM_CHECK(all_equal(to_host(s.memory, z.data(), n), 2), "z missed x's second value");
}

PARM_GPU_CASE(waitOrdersTwoStreams) {
  Shell s;
  Buffer<unsigned char> src(s.memory, kBig), dst(s.memory, kBig);
  const std::size_t tail = 1 << 20;
  Buffer<unsigned char> out(s.memory, tail);
  CudaEvent produced(kDevice), consumed(kDevice);
  for (const int value : {3, 4}) {  // twice: the second round must not see the first round's data
    check_cuda(cudaMemsetAsync(src.data(), value, kBig, cuda_stream_of(s.compute)), "memset");
    check_cuda(
        cudaMemcpyAsync(dst.data(), src.data(), kBig, cudaMemcpyDeviceToDevice, cuda_stream_of(s.compute)),
        "copy");
    s.compute.record(produced);
    s.intra.wait(produced);
    check_cuda(cudaMemcpyAsync(out.data(), dst.data() + kBig - tail, tail, cudaMemcpyDeviceToDevice,
                               cuda_stream_of(s.intra)),
               "copy");
    s.intra.record(consumed);
    s.intra.synchronize();
    PARM_CHECK(consumed.done(), "synchronize returned before the stream's last event");
    PARM_CHECK(all_equal(to_host(s.memory, out.data(), tail), static_cast<unsigned char>(value)),
               "intra read the buffer before compute wrote it (value " + std::to_string(value) + ")");
    PARM_CHECK(s.clock.host_ns(consumed) >= s.clock.host_ns(produced), "the waiting stream finished first");
    s.compute.synchronize();
  }
}

PARM_GPU_CASE(eventTimesIncreaseWithinTheHostInterval) {
  Shell s;
  Buffer<unsigned char> a(s.memory, kBig), b(s.memory, kBig);
  std::vector<std::unique_ptr<CudaEvent>> events;
  for (int i = 0; i < 4; ++i) events.push_back(std::make_unique<CudaEvent>(kDevice));
  for (int round = 0; round < 3; ++round) {
    const std::int64_t host_before = parm::profiler::now_ns();
    cudaStream_t c = cuda_stream_of(s.compute);
    s.compute.record(*events[0]);
    check_cuda(cudaMemsetAsync(a.data(), 5, kBig, c), "memset");
    s.compute.record(*events[1]);
    check_cuda(cudaMemcpyAsync(b.data(), a.data(), kBig, cudaMemcpyDeviceToDevice, c), "copy");
    s.compute.record(*events[2]);
    check_cuda(cudaMemcpyAsync(a.data(), b.data(), kBig, cudaMemcpyDeviceToDevice, c), "copy");
    s.compute.record(*events[3]);
    s.compute.synchronize();
    const std::int64_t host_after = parm::profiler::now_ns();
    std::vector<std::int64_t> t;
    for (const auto& e : events) t.push_back(s.clock.host_ns(*e));
    const std::string at = "round " + std::to_string(round) + ": ";
    PARM_CHECK(t[0] >= host_before - kClockSlackNs,
               at + "first event " + std::to_string(host_before - t[0]) + " ns before the work was enqueued");
    PARM_CHECK(t[3] <= host_after + kClockSlackNs,
               at + "last event " + std::to_string(t[3] - host_after) + " ns after synchronize returned");
    for (int i = 1; i < 4; ++i)
      PARM_CHECK(t[i] > t[i - 1],
                 at + "event " + std::to_string(i) + " not after event " + std::to_string(i - 1));
    // A 512 MiB copy takes at least 50 us at any bandwidth a device has today.
    PARM_CHECK(t[2] - t[1] > 50'000, at + "copy took " + std::to_string(t[2] - t[1]) + " ns");
    std::printf("%sop times %lld, %lld, %lld ns\n", at.c_str(), static_cast<long long>(t[1] - t[0]),
                static_cast<long long>(t[2] - t[1]), static_cast<long long>(t[3] - t[2]));
    s.clock.reanchor();  // as the backend's synchronize() does when stale: the next round has a new anchor
    // An event recorded before the new anchor keeps its time.
    PARM_CHECK(s.clock.host_ns(*events[3]) == t[3], at + "re-anchoring moved an old event");
  }
}

PARM_GPU_CASE(anchorIsRetakenOnlyWhenStale) {
  Shell s;
  const auto first = s.clock.current();
  s.clock.reanchor_if_stale();
  PARM_CHECK(s.clock.current() == first || parm::profiler::now_ns() - first->host_ns >= kAnchorMaxAgeNs,
             "a fresh anchor was replaced");
  std::this_thread::sleep_for(std::chrono::milliseconds(15));
  s.clock.reanchor_if_stale();
  PARM_CHECK(s.clock.current() != first, "a 15 ms old anchor was kept");
  PARM_CHECK(s.clock.current()->host_ns > first->host_ns + 14'000'000, "the new anchor is not 15 ms later");
}

PARM_GPU_CASE(allocatorCachesAcrossIterations) {
  Shell s;
  const auto iteration = [&](std::int64_t salt) {
    Buffer<float> activations(s.memory, 1 << 20);
    Buffer<double> grads(s.memory, 3 << 20);
    Buffer<std::int64_t> positions(s.memory, 4099);
    std::vector<std::int64_t> host(positions.size()), back(positions.size());
    for (std::size_t i = 0; i < host.size(); ++i) host[i] = salt * 100'000 + static_cast<std::int64_t>(i);
    s.memory.copy_from_host(positions.data(), host.data(), host.size() * sizeof(std::int64_t));
    s.memory.copy_to_host(back.data(), positions.data(), back.size() * sizeof(std::int64_t));
    PARM_CHECK(back == host,
               "round trip through the device changed the data (round " + std::to_string(salt) + ")");
  };
  iteration(0);
  const MemoryStats first = s.memory.stats();
  PARM_CHECK(first.device_allocations == 3, std::to_string(first.device_allocations));
  for (int i = 1; i <= 10; ++i) iteration(i);
  const MemoryStats after = s.memory.stats();
  PARM_CHECK(after.device_allocations == first.device_allocations,
             std::to_string(after.device_allocations - first.device_allocations) +
                 " cudaMalloc calls over 10 identical rounds after the first");
  PARM_CHECK(after.peak_bytes == first.peak_bytes, std::to_string(after.peak_bytes));
  PARM_CHECK(after.live_bytes == 0, std::to_string(after.live_bytes));
  size_t free_bytes = 0, total_bytes = 0;
  check_cuda(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
  PARM_CHECK(s.memory.reserved_bytes() < static_cast<std::int64_t>(total_bytes), "reserved more than exists");
}

PARM_GPU_CASE(errorsAreOneLine) {
  bool threw = false;
  try {
    check_cuda(cudaErrorInvalidValue, "cudaMemcpy (test)");
  } catch (const std::runtime_error& e) {
    threw = true;
    const std::string what = e.what();
    PARM_CHECK(what.rfind("cudaMemcpy (test): ", 0) == 0 && what.find('\n') == std::string::npos, what);
  }
  PARM_CHECK(threw, "check_cuda accepted an error");
  OtherStream other;
  threw = false;
  try {
    cuda_stream_of(other);
  } catch (const std::logic_error&) {
    threw = true;
  }
  PARM_CHECK(threw, "cuda_stream_of accepted another backend's stream");
}

int main() {
  const parm::kernels::cuda::DeviceProbe probe = parm::kernels::cuda::probe_devices();
  return parm_gpu_test::run_all(probe.devices.empty() ? probe.error : std::string());
}
