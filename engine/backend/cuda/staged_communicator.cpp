#include "engine/backend/cuda/staged_communicator.h"

#include <atomic>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "engine/backend/cpu/lanes.h"
#include "engine/backend/cuda/comm_watch.h"
#include "engine/backend/cuda/cuda_parts.h"
#include "engine/backend/cuda/host_signal.h"
#include "engine/backend/cuda/host_widening.h"
#include "engine/backend/cuda/staging_pool.h"
#include "engine/comm/mpi_cuda_support.h"

namespace parm::backend::cuda {
namespace {

constexpr std::size_t kAlign = 256;
std::size_t aligned(std::size_t bytes) {
  return (bytes + kAlign - 1) / kAlign * kAlign;
}

// The first failure of the groups' host parts and how many ops finished: what a host wait watches.
class StagedHealth final : public CommWatcher {
 public:
  void fail(std::exception_ptr error) {
    std::lock_guard lock(mutex_);
    if (!failure_) failure_ = std::move(error);
  }
  bool failed() {
    std::lock_guard lock(mutex_);
    return failure_ != nullptr;
  }
  void finished_one() { completed_.fetch_add(1, std::memory_order_relaxed); }

  void rethrow_failure() override {
    std::lock_guard lock(mutex_);
    if (failure_) std::rethrow_exception(failure_);
  }
  std::uint64_t progress() override { return completed_.load(std::memory_order_relaxed); }
  // The MPI waits of the transport are bounded (--timeout-ms) and fail the op themselves.
  void on_stall() override {}

 private:
  std::mutex mutex_;
  std::exception_ptr failure_;
  std::atomic<std::uint64_t> completed_{0};
};

// One staged op: device bytes out (send), device bytes in (recv), fp32 room for widened reductions, and
// the MPI call on the host views.
struct StagedOp {
  const char* name;
  const void* send = nullptr;
  std::size_t send_bytes = 0;
  void* recv = nullptr;
  std::size_t recv_bytes = 0;
  bool in_place = false;      // recv == send: one region
  std::size_t f32_bytes = 0;  // widened reduction room (forces staging)
  std::function<void(const void* host_send, void* host_recv, float* f32)> mpi;
};

// Everything the groups of one rank share: the lane threads, the staging pool and its per-block events, a
// signal per lane.
class StagedGroups {
 public:
  StagedGroups(CudaContext& context, CudaStreamOf stream_of)
      : context_(context),
        stream_of_(stream_of),
        direct_(comm::mpi_accepts_device_pointers()),
        health_(std::make_shared<StagedHealth>()),
        pool_(pinned_memory()) {
    check_cuda(cudaSetDevice(context_.device), "cudaSetDevice");
    watch_comm(context_, health_);
  }

  ~StagedGroups() {
    unwatch_comm(context_, health_.get());
    lanes_.reset();  // every queued host part runs (or skips) and raises its signal
    for (SlotEvents& e : events_) {
      cudaEventSynchronize(e.finished);  // the last copies out of pinned memory before it is freed
      cudaEventDestroy(e.copied_out);
      cudaEventDestroy(e.finished);
    }
  }
  StagedGroups(const StagedGroups&) = delete;
  StagedGroups& operator=(const StagedGroups&) = delete;

  std::int64_t allocations() const { return pool_.allocations(); }
  cudaStream_t cuda_stream(Stream& s) const { return stream_of_(s); }

  void enqueue(Stream& s, comm::Communicator& transport, StagedOp op) {
    const cudaStream_t stream = stream_of_(s);
    const Lane lane = s.lane();
    const bool direct = direct_ && op.f32_bytes == 0;
    std::lock_guard lock(enqueue_mutex_);  // signal targets and event records in one order
    const std::size_t recv_offset = op.in_place ? 0 : aligned(op.send_bytes);
    const std::size_t staged = direct ? 0 : recv_offset + aligned(op.recv_bytes) + op.f32_bytes;
    const StagingPool::Block block = pool_.take(staged);
    const SlotEvents& events = events_for(block.slot);
    std::byte* host_send = direct ? static_cast<std::byte*>(const_cast<void*>(op.send)) : block.data;
    std::byte* host_recv = direct ? static_cast<std::byte*>(op.recv) : block.data + recv_offset;
    float* f32 = reinterpret_cast<float*>(block.data + recv_offset + aligned(op.recv_bytes));
    const std::string what = std::string(op.name) + " on " + transport.name();
    if (!direct && op.send_bytes)
      check_cuda(cudaMemcpyAsync(host_send, op.send, op.send_bytes, cudaMemcpyDeviceToHost, stream),
                 (what + ": staging copy to the host").c_str());
    check_cuda(cudaEventRecord(events.copied_out, stream), "cudaEventRecord");
    HostSignal& signal = signals_[static_cast<int>(lane)];
    const std::uint32_t target = signal.next_target();
    signal.enqueue_wait(stream, target);
    try {
      if (!direct && op.recv_bytes)
        check_cuda(cudaMemcpyAsync(op.recv, host_recv, op.recv_bytes, cudaMemcpyHostToDevice, stream),
                   (what + ": staging copy to the device").c_str());
      check_cuda(cudaEventRecord(events.finished, stream), "cudaEventRecord");
      pool_.give_back(block);  // reused only once `finished` is reached, i.e. after the host part below
      lanes_->submit(lane, [this, &signal, target, copied_out = events.copied_out, host_send, host_recv, f32,
                            what, mpi = std::move(op.mpi)] {
        try {
          if (!health_->failed()) {  // after a failure the groups stop, as the cpu lanes do
            check_cuda(cudaSetDevice(context_.device), "cudaSetDevice");
            check_cuda(cudaEventSynchronize(copied_out), (what + ": waiting for the staging copy").c_str());
            mpi(host_send, host_recv, f32);
          }
        } catch (const comm::CommError&) {
          health_->fail(std::current_exception());
        } catch (const std::exception& e) {
          health_->fail(std::make_exception_ptr(comm::CommError(what + ": " + e.what())));
        }
        signal.raise(target);  // always: the stream must drain even when the op failed
        health_->finished_one();
      });
    } catch (...) {
      // The stream already waits for `target`: raise it in lane order (never ahead of earlier ops), and fail
      // the groups so later ops do not exchange half a schedule.
      health_->fail(std::current_exception());
      lanes_->submit(lane, [&signal, target] { signal.raise(target); });
      throw;
    }
  }

 private:
  struct SlotEvents {
    cudaEvent_t copied_out = nullptr;  // the device->host copy is done: the host may read the block
    cudaEvent_t finished = nullptr;    // the host->device copy is done: the block may be reused
  };

  // Pinned blocks, idle once the last op given them has run its host->device copy.
  StagingPool::Memory pinned_memory() {
    return {[](std::size_t bytes) {
              void* p = nullptr;
              check_cuda(cudaHostAlloc(&p, bytes, cudaHostAllocPortable), "cudaHostAlloc of staging");
              return p;
            },
            [](void* p) { cudaFreeHost(p); },
            [this](std::size_t slot) {
              return slot >= events_.size() || cudaEventQuery(events_[slot].finished) != cudaErrorNotReady;
            }};
  }

  const SlotEvents& events_for(std::size_t slot) {
    while (events_.size() <= slot) {
      SlotEvents e;
      // Blocking sync: the lane threads wait on these, and ranks sharing a GPU share the cores too.
      const unsigned flags = cudaEventDisableTiming | cudaEventBlockingSync;
      check_cuda(cudaEventCreateWithFlags(&e.copied_out, flags), "cudaEventCreate");
      check_cuda(cudaEventCreateWithFlags(&e.finished, flags), "cudaEventCreate");
      events_.push_back(e);
    }
    return events_[slot];
  }

  CudaContext& context_;
  CudaStreamOf stream_of_;
  bool direct_;
  std::shared_ptr<StagedHealth> health_;
  std::mutex enqueue_mutex_;
  std::vector<SlotEvents> events_;  // index = staging slot; grown under enqueue_mutex_ (pool's idle reads it
                                    // there too)
  StagingPool pool_;
  HostSignal signals_[kLaneCount];
  std::unique_ptr<LaneSet> lanes_ = std::make_unique<LaneSet>();  // last: its threads use everything above
};

// The host parts capture the transport, never `this`: a communicator may go before its queued parts run.
class StagedCommunicator final : public StreamCommunicator {
 public:
  StagedCommunicator(std::shared_ptr<StagedGroups> groups, comm::Communicator& transport)
      : groups_(std::move(groups)), t_(transport) {}

  int size() const override { return t_.size(); }
  int rank() const override { return t_.rank(); }
  std::string name() const override { return t_.name(); }
  std::int64_t allocations() const { return groups_->allocations(); }

  void all_to_all(Stream& s, const void* send, void* recv, std::size_t count, DataType type) override {
    const std::size_t block = count * comm::size_of(type), total = block * static_cast<std::size_t>(size());
    groups_->enqueue(s, t_,
                     {"AlltoAll", send, total, recv, total, false, 0,
                      [&t = t_, block](const void* hs, void* hr, float*) { t.all_to_all(hs, hr, block); }});
  }

  void all_to_all_v(Stream& s, const void* send, std::vector<std::size_t> send_counts, void* recv,
                    std::vector<std::size_t> recv_counts, DataType type) override {
    std::size_t send_total = 0, recv_total = 0;
    for (std::size_t& c : send_counts)
      send_total += (c *= comm::size_of(type));  // the transport counts bytes
    for (std::size_t& c : recv_counts) recv_total += (c *= comm::size_of(type));
    groups_->enqueue(
        s, t_,
        {"AlltoAllv", send, send_total, recv, recv_total, false, 0,
         [&t = t_, sb = std::move(send_counts), rb = std::move(recv_counts)](
             const void* hs, void* hr, float*) { t.all_to_all_v(hs, sb.data(), hr, rb.data()); }});
  }

  void all_gather(Stream& s, const void* send, void* recv, std::size_t count, DataType type) override {
    const std::size_t block = count * comm::size_of(type);
    groups_->enqueue(s, t_,
                     {"AllGather", send, block, recv, block * static_cast<std::size_t>(size()), false, 0,
                      [&t = t_, block](const void* hs, void* hr, float*) { t.all_gather(hs, hr, block); }});
  }

  void reduce_scatter(Stream& s, const void* send, void* recv, std::size_t count, DataType type) override {
    const std::size_t n = count * static_cast<std::size_t>(size());
    const bool widen = reduces_widened(type);
    groups_->enqueue(s, t_,
                     {"ReduceScatter", send, n * comm::size_of(type), recv, count * comm::size_of(type),
                      false, widen ? (n + count) * sizeof(float) : 0,
                      [&t = t_, n, count, type, widen](const void* hs, void* hr, float* f32) {
                        if (!widen) return t.reduce_scatter(hs, hr, count, type);
                        widen_to_f32(hs, f32, n, type);
                        t.reduce_scatter(f32, f32 + n, count, DataType::F32);
                        narrow_from_f32(f32 + n, hr, count, type);
                      }});
  }

  void all_reduce(Stream& s, void* buffer, std::size_t count, DataType type, ReduceOp op) override {
    const bool widen = reduces_widened(type);
    const std::size_t bytes = count * comm::size_of(type);
    groups_->enqueue(s, t_,
                     {"AllReduce", buffer, bytes, buffer, bytes, true, widen ? count * sizeof(float) : 0,
                      [&t = t_, count, type, op, widen](const void*, void* hr, float* f32) {
                        if (!widen) return t.all_reduce(hr, count, type, op);
                        widen_to_f32(hr, f32, count, type);
                        t.all_reduce(f32, count, DataType::F32, op);
                        narrow_from_f32(f32, hr, count, type);
                      }});
  }

  void send_recv(Stream& s, const void* send, std::size_t send_count, int dst, void* recv,
                 std::size_t recv_count, int src, DataType type) override {
    const std::size_t sb = send_count * comm::size_of(type), rb = recv_count * comm::size_of(type);
    if (dst == rank() && src == rank() && sb == rb) {
      // A self step is a device copy; the transport's checks (mismatched peers or sizes) still apply below.
      if (sb)
        check_cuda(cudaMemcpyAsync(recv, send, sb, cudaMemcpyDeviceToDevice, groups_->cuda_stream(s)),
                   ("SendRecv on " + name() + ": local copy").c_str());
      return;
    }
    groups_->enqueue(s, t_,
                     {"SendRecv", send, sb, recv, rb, false, 0,
                      [&t = t_, sb, dst, rb, src](const void* hs, void* hr, float*) {
                        t.send_recv(hs, sb, dst, hr, rb, src);
                      }});
  }

  void barrier(Stream& s) override {
    groups_->enqueue(s, t_,
                     {"Barrier", nullptr, 0, nullptr, 0, false, 0,
                      [&t = t_](const void*, void*, float*) { t.barrier(); }});
  }

 private:
  std::shared_ptr<StagedGroups> groups_;
  comm::Communicator& t_;
};

}  // namespace

StreamGroups make_staged_groups_on(const comm::CommGroups& transport, CudaContext& context,
                                   CudaStreamOf stream_of) {
  auto shared = std::make_shared<StagedGroups>(context, stream_of);
  StreamGroups groups;
  for (int k = 0; k < comm::kGroupKindCount; ++k)
    if (const auto& t = transport.*comm::CommGroups::kMembers[k])
      groups.by_kind[static_cast<std::size_t>(k)] = std::make_unique<StagedCommunicator>(shared, *t);
  return groups;
}

std::int64_t staging_allocations(const StreamCommunicator& communicator) {
  const auto* staged = dynamic_cast<const StagedCommunicator*>(&communicator);
  return staged ? staged->allocations() : -1;
}

}  // namespace parm::backend::cuda
