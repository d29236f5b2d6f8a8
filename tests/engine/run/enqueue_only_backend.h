// A test backend that accepts every op and runs none: host memory, streams and events that do nothing,
// compute and collectives that return at once, groups sized as one rank of a real layout would see them.
// With it the executor enqueues a whole schedule for any element type (bf16 and fp16 included) on a machine
// without a device, so the shapes, byte counters and trace sizes it decides while enqueueing can be checked.
#pragma once

#include <cstring>
#include <memory>
#include <new>
#include <string>

#include "engine/backend/backend.h"
#include "engine/core/rank_layout.h"

namespace parm::test {

class NullEvent final : public backend::Event {
 public:
  void synchronize() override {}
  bool done() const override { return true; }
};

class NullStream final : public backend::Stream {
 public:
  explicit NullStream(Lane lane) : lane_(lane) {}
  Lane lane() const override { return lane_; }
  void record(backend::Event&) override {}
  void wait(backend::Event&) override {}
  void synchronize() override {}

 private:
  Lane lane_;
};

class HostMemory final : public backend::Allocator {
 public:
  void* allocate(std::size_t bytes) override { return ::operator new(bytes); }
  void release(void* pointer, std::size_t) noexcept override { ::operator delete(pointer); }
  void copy_to_host(void* host, const void* device, std::size_t bytes) override {
    if (bytes) std::memcpy(host, device, bytes);
  }
  void copy_from_host(void* device, const void* host, std::size_t bytes) override {
    if (bytes) std::memcpy(device, host, bytes);
  }
};

// A group of `size` ranks in which this rank is `rank`; every collective is accepted and skipped. Records
// the DataType of the last call, so a test can see what the executor sends for T.
class NullCommunicator final : public backend::StreamCommunicator {
 public:
  NullCommunicator(int size, int rank, std::string name, comm::DataType* last_type)
      : size_(size), rank_(rank), name_(std::move(name)), last_type_(last_type) {}
  int size() const override { return size_; }
  int rank() const override { return rank_; }
  std::string name() const override { return name_; }
  void all_to_all(backend::Stream&, const void*, void*, std::size_t, comm::DataType t) override { seen(t); }
  void all_to_all_v(backend::Stream&, const void*, std::vector<std::size_t>, void*, std::vector<std::size_t>,
                    comm::DataType t) override {
    seen(t);
  }
  void all_gather(backend::Stream&, const void*, void*, std::size_t, comm::DataType t) override { seen(t); }
  void reduce_scatter(backend::Stream&, const void*, void*, std::size_t, comm::DataType t) override {
    seen(t);
  }
  void all_reduce(backend::Stream&, void*, std::size_t, comm::DataType t, comm::ReduceOp) override {
    seen(t);
  }
  void send_recv(backend::Stream&, const void*, std::size_t, int, void*, std::size_t, int,
                 comm::DataType t) override {
    seen(t);
  }
  void barrier(backend::Stream&) override {}

 private:
  void seen(comm::DataType t) { *last_type_ = t; }
  int size_, rank_;
  std::string name_;
  comm::DataType* last_type_;
};

class NullRouting final : public backend::RoutingState {};
class NullExpertState final : public backend::ExpertState {};

template <typename T>
class NullCompute final : public backend::Compute<T> {
 public:
  using V = backend::View<T>;
  using C = backend::View<const T>;
  std::unique_ptr<backend::RoutingState> make_routing() override { return std::make_unique<NullRouting>(); }
  std::unique_ptr<backend::ExpertState> make_expert_state() override {
    return std::make_unique<NullExpertState>();
  }
  void gate_forward(backend::Stream&, C, C, std::int64_t, std::int64_t, std::int64_t, std::int64_t, V,
                    backend::RoutingState&) override {}
  void route(backend::Stream&, backend::RoutingState&, std::int64_t, C, V) override {}
  std::vector<std::int64_t> expert_loads(const backend::RoutingState&) const override { return {1}; }
  backend::HostRouting host_routing(const backend::RoutingState&) const override { return {}; }
  void gate_backward(backend::Stream&, const backend::RoutingState&, C, C, C, C, C, std::int64_t, V,
                     V) override {}
  void dispatch(backend::Stream&, const backend::RoutingState&, C, std::int64_t, V) override {}
  void dispatch_backward(backend::Stream&, const backend::RoutingState&, C, std::int64_t, V) override {}
  void combine(backend::Stream&, const backend::RoutingState&, C, C, std::int64_t, V) override {}
  void combine_backward(backend::Stream&, const backend::RoutingState&, C, C, C, std::int64_t, V,
                        V) override {}
  void experts_forward(backend::Stream&, const backend::ExpertWeights<T>&, backend::DispatchShape, C,
                       backend::ExpertState&, V) override {}
  void experts_backward(backend::Stream&, const backend::ExpertWeights<T>&, backend::DispatchShape, C,
                        const backend::ExpertState&, const backend::ExpertGrads<T>&, V) override {}
  void copy_expert_state(backend::Stream&, const backend::ExpertState&, backend::ExpertState&,
                         const backend::ExpertStateSlots&) override {}
  void gemm(backend::Stream&, C, C, std::int64_t, std::int64_t, std::int64_t, V) override {}
  void scale(backend::Stream&, V, T) override {}
  void accumulate(backend::Stream&, C, V) override {}
  void copy_blocks(backend::Stream&, C, V, const layout::BlockCopy&) override {}
  void copy(backend::Stream&, C, V) override {}
};

class EnqueueOnlyBackend final : public backend::Backend {
 public:
  explicit EnqueueOnlyBackend(const RankLayout& layout) : layout_(layout) {}

  std::string_view name() const override { return "enqueue-only"; }
  backend::Allocator& allocator() override { return memory_; }
  backend::Stream& stream(Lane lane) override { return streams_[static_cast<int>(lane)]; }
  std::unique_ptr<backend::Event> make_event() override { return std::make_unique<NullEvent>(); }
  std::int64_t event_time_ns(const backend::Event&) const override { return 0; }
  backend::Compute<float>& compute_f32() override { return f32_; }
  backend::Compute<double>& compute_f64() override { return f64_; }
  backend::Compute<Bf16>& compute_bf16() override { return bf16_; }
  backend::Compute<F16>& compute_f16() override { return f16_; }
  // The transport is ignored: each kind gets this rank's group size and index from the layout.
  backend::StreamGroups make_groups(const comm::CommGroups&) override {
    using comm::GroupKind;
    const RankLayout& l = layout_;
    const int esp_rank = l.esp_size == 1 ? 0 : l.mp_index;
    const struct {
      GroupKind kind;
      int size, rank;
    } kinds[] = {{GroupKind::World, l.world, l.rank},
                 {GroupKind::MP, l.mp_size, l.mp_index},
                 {GroupKind::ESP, l.esp_size, esp_rank},
                 {GroupKind::EP, l.ep_size, l.ep_index},
                 {GroupKind::MPFused, l.mp_size, l.mp_index},
                 {GroupKind::ESPFused, l.esp_size, esp_rank},
                 {GroupKind::EPFused, l.ep_size, l.ep_index},
                 {GroupKind::EPIntra, l.ep_local_size, l.ep_local_index},
                 {GroupKind::EPInter, l.ep_size / l.ep_local_size, l.ep_node_index}};
    backend::StreamGroups g;
    for (const auto& k : kinds)
      g.by_kind[static_cast<std::size_t>(k.kind)] = std::make_unique<NullCommunicator>(
          k.size, k.rank, std::string(comm::to_string(k.kind)), &last_type_);
    return g;
  }
  void synchronize() override {}
  backend::DeviceDescription device() const override {
    backend::DeviceDescription d;
    d.name = "enqueue-only";
    return d;
  }
  backend::MemoryStats memory_stats() const override { return {}; }

  // The DataType of the latest collective enqueued on any group.
  comm::DataType last_type() const { return last_type_; }

 private:
  RankLayout layout_;
  HostMemory memory_;
  NullStream streams_[3] = {NullStream(Lane::Compute), NullStream(Lane::Intra), NullStream(Lane::Inter)};
  NullCompute<float> f32_;
  NullCompute<double> f64_;
  NullCompute<Bf16> bf16_;
  NullCompute<F16> f16_;
  comm::DataType last_type_ = comm::DataType::I64;
};

}  // namespace parm::test
