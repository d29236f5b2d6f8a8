// The host-checkable logic of the cuda backend's shell, in every build: the caching policy of its device
// allocator driven over a host raw allocator (reuse, counts, peak, no growth over repeated identical
// iterations), the arithmetic that puts cudaEvent times on the host clock, which device a rank gets and how
// the driver is named.
#include <QtTest>
#include <array>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <set>
#include <stdexcept>
#include <vector>

#include "engine/backend/cuda/caching_allocator.h"
#include "engine/backend/cuda/device_selection.h"
#include "engine/backend/cuda/device_text.h"
#include "engine/backend/cuda/event_clock.h"

using namespace parm::backend;
using namespace parm::backend::cuda;

namespace {

// malloc underneath, counting what reaches it.
class HostRaw final : public RawAllocator {
 public:
  ~HostRaw() override {
    for (void* p : live) std::free(p);
  }
  void* allocate(std::size_t bytes) override {
    void* p = std::malloc(bytes);
    if (!p) throw std::runtime_error("malloc");
    ++allocations;
    live.insert(p);
    return p;
  }
  void release(void* pointer) noexcept override {
    ++releases;
    live.erase(pointer);
    std::free(pointer);
  }
  void copy_to_host(void* host, const void* device, std::size_t bytes) override {
    std::memcpy(host, device, bytes);
  }
  void copy_from_host(void* device, const void* host, std::size_t bytes) override {
    std::memcpy(device, host, bytes);
  }
  int allocations = 0, releases = 0;
  std::set<void*> live;
};

// What one iteration of a layer allocates: some sizes repeat, some nest.
void one_iteration(Allocator& memory) {
  Buffer<float> activations(memory, 4096);
  Buffer<float> scratch(memory, 100);
  {
    Buffer<double> grads(memory, 3 << 20);  // above 1 MiB: large granules
    Buffer<float> same_size(memory, 4096);  // a second block of the class activations holds
  }
  Buffer<std::int64_t> positions(memory, 77);
}

}  // namespace

class TestCudaShell : public QObject {
  Q_OBJECT
 private slots:
  void roundsToSizeClasses() {
    QCOMPARE(rounded_block_size(0), std::size_t{512});
    QCOMPARE(rounded_block_size(1), std::size_t{512});
    QCOMPARE(rounded_block_size(512), std::size_t{512});
    QCOMPARE(rounded_block_size(513), std::size_t{1024});
    QCOMPARE(rounded_block_size(std::size_t{1} << 20), std::size_t{1} << 20);
    QCOMPARE(rounded_block_size((std::size_t{1} << 20) + 1), std::size_t{2} << 20);
    QCOMPARE(rounded_block_size((std::size_t{5} << 20) + 7), std::size_t{6} << 20);
  }

  void releasedBlocksAreReused() {
    HostRaw raw;
    CachingAllocator memory(raw);
    void* a = memory.allocate(1000);
    memory.release(a, 1000);
    void* b = memory.allocate(900);  // same 1024-byte class
    QCOMPARE(b, a);
    QCOMPARE(raw.allocations, 1);
    void* c = memory.allocate(2000);  // another class: a new block
    QVERIFY(c != a);
    QCOMPARE(raw.allocations, 2);
    memory.release(b, 900);
    memory.release(c, 2000);
    QCOMPARE(raw.releases, 0);  // nothing goes back until the allocator dies
    QCOMPARE(memory.cached_blocks(), std::int64_t{2});
  }

  void countsLiveAndPeak() {
    HostRaw raw;
    CachingAllocator memory(raw);
    void* a = memory.allocate(512);
    void* b = memory.allocate(1024);
    QCOMPARE(memory.stats().live_bytes, std::int64_t{1536});
    memory.release(a, 512);
    QCOMPARE(memory.stats().live_bytes, std::int64_t{1024});
    void* c = memory.allocate(512);
    QCOMPARE(memory.stats().peak_bytes, std::int64_t{1536});
    memory.release(b, 1024);
    memory.release(c, 512);
    const MemoryStats s = memory.stats();
    QCOMPARE(s.live_bytes, std::int64_t{0});
    QCOMPARE(s.peak_bytes, std::int64_t{1536});
    QCOMPARE(s.device_allocations, std::int64_t{2});
    QCOMPARE(memory.reserved_bytes(), std::int64_t{1536});
  }

  void repeatedIterationsDoNotGrow() {
    HostRaw raw;
    CachingAllocator memory(raw);
    one_iteration(memory);
    const MemoryStats first = memory.stats();
    const std::int64_t reserved = memory.reserved_bytes();
    QCOMPARE(first.device_allocations, std::int64_t{5});
    for (int i = 0; i < 10; ++i) one_iteration(memory);
    const MemoryStats after = memory.stats();
    QCOMPARE(after.device_allocations, first.device_allocations);
    QCOMPARE(after.peak_bytes, first.peak_bytes);
    QCOMPARE(after.live_bytes, std::int64_t{0});
    QCOMPARE(memory.reserved_bytes(), reserved);
    QCOMPARE(raw.allocations, 5);
  }

  void destructionReturnsCachedBlocks() {
    HostRaw raw;
    {
      CachingAllocator memory(raw);
      one_iteration(memory);
    }
    QCOMPARE(raw.releases, raw.allocations);
    QVERIFY(raw.live.empty());
  }

  void copiesGoThroughTheRawAllocator() {
    HostRaw raw;
    CachingAllocator memory(raw);
    Buffer<int> b(memory, 3);
    const int in[3] = {7, -1, 42};
    int out[3] = {};
    memory.copy_from_host(b.data(), in, sizeof in);
    memory.copy_to_host(out, b.data(), sizeof out);
    QCOMPARE(out[0], 7);
    QCOMPARE(out[2], 42);
  }

  void anchorIsTheMidpointOfItsBracket() {
    QCOMPARE(anchor_host_ns(1'000, 3'000), std::int64_t{2'000});
    QCOMPARE(anchor_host_ns(5, 5), std::int64_t{5});
    const std::int64_t big = std::numeric_limits<std::int64_t>::max() - 10;
    QCOMPARE(anchor_host_ns(big - 4, big), big - 2);  // no overflow near the clock's end
  }

  void eventTimesAddElapsedMilliseconds() {
    const std::int64_t anchor = 1'234'567'890'123;  // a steady clock twenty minutes after boot
    QCOMPARE(event_host_ns(anchor, 0.0f), anchor);
    QCOMPARE(event_host_ns(anchor, 1.5f), anchor + 1'500'000);
    QCOMPARE(event_host_ns(anchor, 0.0005f), anchor + 500);  // cudaEventElapsedTime's resolution
    // A second after the anchor, float milliseconds still resolve well under a microsecond.
    const float ms = 1000.123f;
    QVERIFY(std::llabs(event_host_ns(anchor, ms) - (anchor + 1'000'123'000)) < 100);
    // Increasing elapsed times give increasing host times.
    std::int64_t last = anchor - 1;
    for (float e = 0; e < 50.0f; e += 0.37f) {
      const std::int64_t t = event_host_ns(anchor, e);
      QVERIFY(t > last);
      last = t;
    }
  }

  void anchorsAreRetakenAfterTenMilliseconds() {
    const std::int64_t anchor = 5'000'000'000;
    QVERIFY(!anchor_is_stale(anchor, anchor));
    QVERIFY(!anchor_is_stale(anchor, anchor + 9'999'999));
    QVERIFY(anchor_is_stale(anchor, anchor + 10'000'000));
    // At that age a float millisecond count still resolves a nanosecond or two.
    const float ms = 9.999999f;
    QVERIFY(std::llabs(event_host_ns(anchor, ms) - (anchor + 9'999'999)) <= 2);
  }

  void cudaTakesTheLocalRanksDevice() {
    BackendOptions o;
    o.kind = parm::Backend::Cuda;
    o.rank = 5;
    o.local_rank = 1;
    QCOMPARE(select_device_ordinal(o, 2), 1);
    o.local_rank = 2;
    try {
      select_device_ordinal(o, 2);
      QFAIL("three ranks on two devices were accepted");
    } catch (const std::runtime_error& e) {
      QCOMPARE(QString(e.what()),
               QString("backend cuda: rank 5 is local rank 2 but this host has 2 CUDA devices; backend cuda "
                       "runs one rank per GPU: use backend cuda+mpi to share a GPU"));
    }
  }

  void cudaMpiSharesDevicesRoundRobin() {
    BackendOptions o;
    o.kind = parm::Backend::CudaMpi;
    std::vector<int> got;
    for (int r = 0; r < 4; ++r) {
      o.local_rank = r;
      got.push_back(select_device_ordinal(o, 1));
    }
    QCOMPARE(got, (std::vector<int>{0, 0, 0, 0}));
    o.local_rank = 5;
    QCOMPARE(select_device_ordinal(o, 2), 1);
    QVERIFY_THROWS_EXCEPTION(std::runtime_error, select_device_ordinal(o, 0));
  }

  void namesDriverAndRuntime() {
    QCOMPARE(cuda_version_text(13000), std::string("13.0"));
    QCOMPARE(cuda_version_text(12080), std::string("12.8"));
    QCOMPARE(cuda_driver_text(13010, 13000), std::string("CUDA driver 13.1, runtime 13.0"));
  }

  // DeviceDescription's GPU properties as TARGET_INFO_GPU writes them.
  void writesDeviceProperties() {
    QCOMPARE(pci_bus_text(0, 0x1b, 0), std::string("0000:1b:00.0"));
    QCOMPARE(pci_bus_text(1, 0xc3, 0x1f), std::string("0001:c3:1f.0"));
    std::array<unsigned char, 16> uuid{};
    for (std::size_t i = 0; i < uuid.size(); ++i) uuid[i] = static_cast<unsigned char>(0x10 * (i % 16) + i);
    QCOMPARE(gpu_uuid_text(uuid), std::string("GPU-00112233-4455-6677-8899-aabbccddeeff"));
    // H100 SXM: 2619 MHz HBM3 on a 5120-bit bus, double data rate.
    QCOMPARE(memory_bandwidth_bytes_s(2'619'000, 5120), std::int64_t{2} * 2'619'000'000 * 640);
    QCOMPARE(memory_bandwidth_bytes_s(0, 5120), std::int64_t{0});
    QCOMPARE(nccl_version_text(22809), std::string("NCCL 2.28.9"));
    QCOMPARE(nccl_version_text(21803), std::string("NCCL 2.18.3"));
    QCOMPARE(nccl_version_text(2804), std::string("NCCL 2.8.4"));
  }
};

QTEST_GUILESS_MAIN(TestCudaShell)
#include "test_engine_cuda_shell.moc"
