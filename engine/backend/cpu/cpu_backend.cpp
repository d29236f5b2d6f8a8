#include "engine/backend/cpu/cpu_backend.h"

#include <algorithm>
#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

#include "engine/backend/cpu/cpu_communicator.h"
#include "engine/backend/cpu/cpu_blocks.h"
#include "engine/backend/cpu/cpu_compute.h"
#include "engine/backend/cpu/cpu_streams.h"
#include "engine/backend/cpu/lanes.h"

namespace parm::backend::cpu {
namespace {

class HostAllocator final : public Allocator {
 public:
  // 64-byte aligned, like the vectors' allocations BLAS saw before (and a cache line).
  void* allocate(std::size_t bytes) override {
    void* p = ::operator new (bytes, std::align_val_t{64});
    stats_.live_bytes += static_cast<std::int64_t>(bytes);
    stats_.peak_bytes = std::max(stats_.peak_bytes, stats_.live_bytes);
    ++stats_.device_allocations;
    return p;
  }
  void release(void* pointer, std::size_t bytes) noexcept override {
    ::operator delete (pointer, std::align_val_t{64});
    stats_.live_bytes -= static_cast<std::int64_t>(bytes);
  }
  MemoryStats stats() const { return stats_; }
  void copy_to_host(void* host, const void* device, std::size_t bytes) override {
    if (bytes) std::memcpy(host, device, bytes);
  }
  void copy_from_host(void* device, const void* host, std::size_t bytes) override {
    if (bytes) std::memcpy(device, host, bytes);
  }

 private:
  MemoryStats stats_;  // allocations come from the enqueuing thread only
};

std::runtime_error sixteen_bit_refused(const char* dtype) {
  return std::runtime_error(std::string("layer.dtype = ") + dtype +
                            ": the cpu backend computes in fp32 or fp64 only; use backend cuda or cuda+mpi");
}

class CpuBackend final : public Backend {
 public:
  CpuBackend()
      : streams_{CpuStream(lanes_, Lane::Compute), CpuStream(lanes_, Lane::Intra),
                 CpuStream(lanes_, Lane::Inter)},
        f32_(make_cpu_compute<float>()),
        f64_(make_cpu_compute<double>()),
        blocks_f32_(make_cpu_blocks<float>()),
        blocks_f64_(make_cpu_blocks<double>()) {}
  ~CpuBackend() override {
    try {
      lanes_.synchronize();  // tasks hold views of buffers their owners free after this
    } catch (...) {
      // The failure was reported by whoever synchronized first.
    }
  }

  std::string_view name() const override { return "cpu"; }
  Allocator& allocator() override { return allocator_; }
  Stream& stream(Lane lane) override { return streams_[static_cast<int>(lane)]; }
  std::unique_ptr<Event> make_event() override { return std::make_unique<CpuEvent>(); }
  std::int64_t event_time_ns(const Event& event) const override {
    return dynamic_cast<const CpuEvent&>(event).time_ns();
  }
  Compute<float>& compute_f32() override { return *f32_; }
  Compute<double>& compute_f64() override { return *f64_; }
  Compute<Bf16>& compute_bf16() override { throw sixteen_bit_refused("bf16"); }
  Compute<F16>& compute_f16() override { throw sixteen_bit_refused("fp16"); }
  BlockCompute<float>& blocks_f32() override { return *blocks_f32_; }
  BlockCompute<double>& blocks_f64() override { return *blocks_f64_; }

  StreamGroups make_groups(const comm::CommGroups& transport) override {
    StreamGroups g;
    for (int k = 0; k < comm::kGroupKindCount; ++k)
      if (const auto& c = transport.*comm::CommGroups::kMembers[k])
        g.by_kind[std::size_t(k)] = make_cpu_communicator(*c);
    return g;
  }

  void synchronize() override { lanes_.synchronize(); }
  DeviceDescription device() const override {
    DeviceDescription host;  // ordinal -1, no device memory, no GPU properties
    host.name = "cpu";
    return host;
  }
  MemoryStats memory_stats() const override { return allocator_.stats(); }

 private:
  HostAllocator allocator_;
  LaneSet lanes_;
  CpuStream streams_[kLaneCount];
  std::unique_ptr<Compute<float>> f32_;
  std::unique_ptr<Compute<double>> f64_;
  std::unique_ptr<BlockCompute<float>> blocks_f32_;
  std::unique_ptr<BlockCompute<double>> blocks_f64_;
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend() {
  return std::make_unique<CpuBackend>();
}

}  // namespace parm::backend::cpu
