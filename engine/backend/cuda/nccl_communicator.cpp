#include "engine/backend/cuda/nccl_communicator.h"

#include <nccl.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "engine/backend/cuda/comm_watch.h"
#include "engine/backend/cuda/cuda_parts.h"

namespace parm::backend::cuda {
namespace {

ncclDataType_t nccl_type(DataType type) {
  switch (type) {
    case DataType::F32:
      return ncclFloat32;
    case DataType::F64:
      return ncclFloat64;
    case DataType::BF16:
      return ncclBfloat16;
    case DataType::F16:
      return ncclFloat16;
    case DataType::I64:
      return ncclInt64;
  }
  return ncclFloat32;
}

std::string describe(const comm::Communicator& group) {
  std::string s = "group " + group.name() + " (world ranks ";
  for (int i = 0; i < group.size(); ++i) s += (i ? "," : "") + std::to_string(group.world_rank_of(i));
  return s + ")";
}

// One NCCL communicator of a rank and the ops enqueued on it that the device has not finished yet.
struct NcclComm {
  ncclComm_t comm = nullptr;
  std::string description;  // "group MP (world ranks 0,1)"
  int size = 0, rank = 0;
  struct Pending {
    cudaEvent_t done;
    std::string op;
  };
  std::vector<Pending> pending;  // enqueue order
  std::string last_op = "nothing yet";
  bool aborted = false;
};

// Waits for a non-blocking NCCL call to leave ncclInProgress; aborts the communicator past the deadline.
void settle(NcclComm& c, ncclResult_t result, const std::string& op, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (result == ncclInProgress) {
    if (std::chrono::steady_clock::now() >= deadline) {
      ncclCommAbort(c.comm);
      c.aborted = true;
      throw comm::CommError(op + " on " + c.description + " did not complete within --timeout-ms " +
                            std::to_string(timeout.count()) + ": NCCL communicator aborted");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(50));
    if (ncclCommGetAsyncError(c.comm, &result) != ncclSuccess) break;
  }
  if (result != ncclSuccess) {
    const char* detail = ncclGetLastError(c.comm);
    throw comm::CommError(op + " on " + c.description + " failed: " + ncclGetErrorString(result) +
                          (detail && *detail ? std::string(" (") + detail + ")" : std::string()));
  }
}

// Every communicator of one rank, the events that mark their ops done, and the watch over them.
class NcclGroups final : public CommWatcher {
 public:
  NcclGroups(CudaContext& context, CudaStreamOf stream_of) : context_(context), stream_of_(stream_of) {}

  ~NcclGroups() override {
    // Children before the world they were split from; an aborted communicator is already gone.
    for (auto it = comms_.rbegin(); it != comms_.rend(); ++it) {
      NcclComm& c = **it;
      if (c.aborted || !c.comm) continue;
      try {
        settle(c, ncclCommFinalize(c.comm), "ncclCommFinalize", context_.timeout);
        ncclCommDestroy(c.comm);
      } catch (const comm::CommError&) {
        if (!c.aborted) ncclCommAbort(c.comm);  // a failed communicator cannot finalize: free it anyway
      }
    }
    for (NcclComm::Pending& p : all_pending()) cudaEventDestroy(p.done);
    for (cudaEvent_t e : free_events_) cudaEventDestroy(e);
    if (barrier_scratch_ && context_.allocator)
      context_.allocator->release(barrier_scratch_, sizeof(float));
    else if (barrier_scratch_)
      cudaFree(barrier_scratch_);
  }

  cudaStream_t stream(Stream& s) const { return stream_of_(s); }

  NcclComm& add(ncclComm_t comm, const comm::Communicator& group) {
    auto c = std::make_unique<NcclComm>();
    c->comm = comm;
    c->description = describe(group);
    comms_.push_back(std::move(c));
    return *comms_.back();
  }

  // The float a barrier's AllReduce runs on, made with the groups (never in the iteration loop): from the
  // backend's allocator where the context has one.
  void make_barrier_scratch() {
    if (context_.allocator)
      barrier_scratch_ = context_.allocator->allocate(sizeof(float));
    else
      check_cuda(cudaMalloc(&barrier_scratch_, sizeof(float)), "cudaMalloc of the barrier scratch");
    check_cuda(cudaMemset(barrier_scratch_, 0, sizeof(float)), "cudaMemset of the barrier scratch");
  }
  float* barrier_scratch() const { return static_cast<float*>(barrier_scratch_); }

  // Issues `call` (NCCL calls on c's stream), settles it, and records its completion for the watchdog.
  template <typename Call>
  void run(NcclComm& c, Stream& s, const char* op, Call call) {
    std::lock_guard lock(mutex_);
    if (failure_) std::rethrow_exception(failure_);
    if (c.aborted) throw comm::CommError(std::string(op) + " on " + c.description + ": communicator aborted");
    const cudaStream_t st = stream_of_(s);
    c.last_op = op;
    settle(c, call(st), op, context_.timeout);
    cudaEvent_t done = take_event();
    check_cuda(cudaEventRecord(done, st), "cudaEventRecord after an NCCL op");
    c.pending.push_back({done, op});
  }

  void rethrow_failure() override {
    std::lock_guard lock(mutex_);
    if (!failure_)
      for (auto& c : comms_) {
        if (c->aborted) continue;
        ncclResult_t state = ncclSuccess;
        if (ncclCommGetAsyncError(c->comm, &state) == ncclSuccess &&
            (state == ncclSuccess || state == ncclInProgress))
          continue;
        const char* detail = ncclGetLastError(c->comm);
        failure_ = std::make_exception_ptr(
            comm::CommError(c->last_op + " on " + c->description + " failed: " + ncclGetErrorString(state) +
                            (detail && *detail ? std::string(" (") + detail + ")" : std::string())));
        break;
      }
    if (failure_) std::rethrow_exception(failure_);
  }

  std::uint64_t progress() override {
    std::lock_guard lock(mutex_);
    for (auto& c : comms_)
      std::erase_if(c->pending, [&](const NcclComm::Pending& p) {
        if (cudaEventQuery(p.done) == cudaErrorNotReady) return false;
        free_events_.push_back(p.done);
        ++completed_;
        return true;
      });
    return completed_;
  }

  void on_stall() override {
    progress();
    std::lock_guard lock(mutex_);
    NcclComm* stuck = nullptr;
    for (auto& c : comms_)
      if (!c->pending.empty() && !c->aborted) {
        stuck = c.get();
        break;
      }
    if (!stuck) return;  // no NCCL op pending: local work is slow, not a peer
    const std::string op = stuck->pending.front().op;
    for (auto& c : comms_)  // every stuck kernel must exit, or the stream never drains
      if (!c->pending.empty() && !c->aborted) {
        ncclCommAbort(c->comm);
        c->aborted = true;
      }
    failure_ = std::make_exception_ptr(
        comm::CommError(op + " on " + stuck->description + " did not complete within --timeout-ms " +
                        std::to_string(context_.timeout.count()) +
                        ": a peer rank died or is stuck (NCCL communicator aborted)"));
    std::rethrow_exception(failure_);
  }

 private:
  cudaEvent_t take_event() {
    if (!free_events_.empty()) {
      cudaEvent_t e = free_events_.back();
      free_events_.pop_back();
      return e;
    }
    cudaEvent_t e = nullptr;
    check_cuda(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), "cudaEventCreate");
    return e;
  }

  std::vector<NcclComm::Pending> all_pending() {
    std::vector<NcclComm::Pending> all;
    for (auto& c : comms_) all.insert(all.end(), c->pending.begin(), c->pending.end());
    return all;
  }

  CudaContext& context_;
  CudaStreamOf stream_of_;
  std::mutex mutex_;
  std::vector<std::unique_ptr<NcclComm>> comms_;  // [0] is the world
  std::vector<cudaEvent_t> free_events_;
  std::exception_ptr failure_;
  std::uint64_t completed_ = 0;
  void* barrier_scratch_ = nullptr;
};

// NCCL sends per peer inside one group call: the uneven AlltoAll and the pairwise step.
struct PeerTransfer {
  const void* send;
  std::size_t send_count;
  int dst;
  void* recv;
  std::size_t recv_count;
  int src;
};

class NcclCommunicator final : public StreamCommunicator {
 public:
  NcclCommunicator(std::shared_ptr<NcclGroups> groups, NcclComm& comm, std::string name)
      : groups_(std::move(groups)), c_(comm), name_(std::move(name)) {}

  int size() const override { return c_.size; }
  int rank() const override { return c_.rank; }
  std::string name() const override { return name_; }

  void all_to_all(Stream& s, const void* send, void* recv, std::size_t count, DataType type) override {
    groups_->run(c_, s, "AlltoAll", [&](cudaStream_t st) {
      return ncclAlltoAll(send, recv, count, nccl_type(type), c_.comm, st);
    });
  }

  void all_to_all_v(Stream& s, const void* send, std::vector<std::size_t> send_counts, void* recv,
                    std::vector<std::size_t> recv_counts, DataType type) override {
    if (send_counts.size() != static_cast<std::size_t>(size()) || recv_counts.size() != send_counts.size())
      throw comm::CommError("AlltoAllv on " + c_.description + ": one count per group rank expected");
    const std::size_t unit = comm::size_of(type);
    groups_->run(c_, s, "AlltoAllv", [&](cudaStream_t st) {
      std::vector<PeerTransfer> steps;
      std::size_t send_offset = 0, recv_offset = 0;
      for (int p = 0; p < size(); ++p) {
        const std::size_t sc = send_counts[static_cast<std::size_t>(p)];
        const std::size_t rc = recv_counts[static_cast<std::size_t>(p)];
        steps.push_back({static_cast<const char*>(send) + send_offset * unit, sc, p,
                         static_cast<char*>(recv) + recv_offset * unit, rc, p});
        send_offset += sc;
        recv_offset += rc;
      }
      return grouped(steps, type, st);
    });
  }

  void all_gather(Stream& s, const void* send, void* recv, std::size_t count, DataType type) override {
    groups_->run(c_, s, "AllGather", [&](cudaStream_t st) {
      return ncclAllGather(send, recv, count, nccl_type(type), c_.comm, st);
    });
  }

  void reduce_scatter(Stream& s, const void* send, void* recv, std::size_t count, DataType type) override {
    groups_->run(c_, s, "ReduceScatter", [&](cudaStream_t st) {
      return ncclReduceScatter(send, recv, count, nccl_type(type), ncclSum, c_.comm, st);
    });
  }

  void all_reduce(Stream& s, void* buffer, std::size_t count, DataType type, ReduceOp op) override {
    groups_->run(c_, s, "AllReduce", [&](cudaStream_t st) {
      return ncclAllReduce(buffer, buffer, count, nccl_type(type), op == ReduceOp::Max ? ncclMax : ncclSum,
                           c_.comm, st);
    });
  }

  void send_recv(Stream& s, const void* send, std::size_t send_count, int dst, void* recv,
                 std::size_t recv_count, int src, DataType type) override {
    if (dst < 0 || dst >= size() || src < 0 || src >= size())
      throw comm::CommError("SendRecv on " + c_.description + ": peer " +
                            std::to_string(dst < 0 || dst >= size() ? dst : src) + " is not in the group");
    if (dst == rank() || src == rank()) {
      // As the transport: a self step is a local copy, and a self send paired with a peer never matches.
      if (dst != src)
        throw comm::CommError("SendRecv on " + c_.description + ": dst " + std::to_string(dst) + " and src " +
                              std::to_string(src) + " must both be this rank or both be peers");
      if (send_count != recv_count)
        throw comm::CommError("SendRecv on " + c_.description + ": local copy of " +
                              std::to_string(send_count) + " elements into a buffer of " +
                              std::to_string(recv_count));
      if (send_count)
        check_cuda(cudaMemcpyAsync(recv, send, send_count * comm::size_of(type), cudaMemcpyDeviceToDevice,
                                   groups_->stream(s)),
                   ("SendRecv on " + c_.description + ": local copy").c_str());
      return;
    }
    groups_->run(c_, s, "SendRecv", [&](cudaStream_t st) {
      return grouped({{send, send_count, dst, nullptr, 0, -1}, {nullptr, 0, -1, recv, recv_count, src}}, type,
                     st);
    });
  }

  void barrier(Stream& s) override {
    float* scratch = groups_->barrier_scratch();
    groups_->run(c_, s, "Barrier", [&](cudaStream_t st) {
      return ncclAllReduce(scratch, scratch, 1, ncclFloat32, ncclSum, c_.comm, st);
    });
  }

 private:
  // One ncclGroupStart/End around the sends and receives (zero counts are skipped on both sides alike,
  // since my send count to p is p's receive count from me).
  ncclResult_t grouped(const std::vector<PeerTransfer>& steps, DataType type, cudaStream_t st) {
    ncclResult_t first = ncclGroupStart();
    if (first != ncclSuccess) return first;
    for (const PeerTransfer& t : steps) {
      ncclResult_t r = ncclSuccess;
      if (t.send_count) r = ncclSend(t.send, t.send_count, nccl_type(type), t.dst, c_.comm, st);
      if (r == ncclSuccess && t.recv_count)
        r = ncclRecv(t.recv, t.recv_count, nccl_type(type), t.src, c_.comm, st);
      if (r != ncclSuccess && r != ncclInProgress && first == ncclSuccess) first = r;
    }
    const ncclResult_t end = ncclGroupEnd();
    return first != ncclSuccess ? first : end;
  }

  std::shared_ptr<NcclGroups> groups_;
  NcclComm& c_;
  std::string name_;
};

// Refuses, on every rank alike, a world in which two ranks drive one GPU.
void refuse_shared_devices(comm::Communicator& world, int device) {
  const std::vector<char> mine = pack_device_record(local_device_record(device));
  std::vector<char> all(mine.size() * static_cast<std::size_t>(world.size()));
  world.all_gather(mine.data(), all.data(), mine.size());
  std::vector<DeviceRecord> records;
  for (int r = 0; r < world.size(); ++r)
    records.push_back(unpack_device_record(all.data() + static_cast<std::size_t>(r) * mine.size()));
  if (const auto refusal = shared_device_refusal(records)) throw comm::CommError(*refusal);
}

ncclConfig_t nonblocking_config(bool share_resources) {
  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;
  config.splitShare = share_resources ? 1 : 0;
  return config;
}

}  // namespace

DeviceRecord local_device_record(int device) {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  char bus_id[64] = {};
  check_cuda(cudaDeviceGetPCIBusId(bus_id, sizeof bus_id, device), "cudaDeviceGetPCIBusId");
  return {host, bus_id};
}

StreamGroups make_nccl_groups_on(const comm::CommGroups& transport, CudaContext& context,
                                 CudaStreamOf stream_of) {
  comm::Communicator& world = transport.of(comm::GroupKind::World);
  check_cuda(cudaSetDevice(context.device), "cudaSetDevice");
  refuse_shared_devices(world, context.device);

  ncclUniqueId id{};
  if (world.rank() == 0) {
    if (const ncclResult_t r = ncclGetUniqueId(&id); r != ncclSuccess)
      throw comm::CommError(std::string("ncclGetUniqueId failed: ") + ncclGetErrorString(r));
  }
  std::vector<ncclUniqueId> ids(static_cast<std::size_t>(world.size()));
  world.all_gather(&id, ids.data(), sizeof id);  // the transport's bounded wait covers a dead rank 0

  auto groups = std::make_shared<NcclGroups>(context, stream_of);
  groups->make_barrier_scratch();
  StreamGroups out;
  const auto adopt = [&](comm::GroupKind kind, ncclComm_t handle, const std::string& op, ncclResult_t r) {
    const comm::Communicator& group = transport.of(kind);
    NcclComm& c = groups->add(handle, group);
    settle(c, r, op, context.timeout);
    ncclCommCount(c.comm, &c.size);
    ncclCommUserRank(c.comm, &c.rank);
    if (c.size != group.size() || c.rank != group.rank())
      throw comm::CommError(op + " made " + c.description + " with " + std::to_string(c.size) +
                            " ranks (this one " + std::to_string(c.rank) + "); the transport group has " +
                            std::to_string(group.size()));
    out.by_kind[static_cast<std::size_t>(kind)] = std::make_unique<NcclCommunicator>(groups, c, group.name());
    return c.comm;
  };

  ncclConfig_t world_config = nonblocking_config(false);
  ncclComm_t world_comm = nullptr;
  const ncclResult_t init =
      ncclCommInitRankConfig(&world_comm, world.size(), ids[0], world.rank(), &world_config);
  adopt(comm::GroupKind::World, world_comm, "ncclCommInitRank", init);
  for (const NcclSplit& split : nccl_split_plan(transport)) {
    ncclConfig_t config = nonblocking_config(split.share_resources);
    ncclComm_t child = nullptr;
    const ncclResult_t r = ncclCommSplit(world_comm, split.color, split.key, &child, &config);
    adopt(split.kind, child, "ncclCommSplit for " + std::string(comm::to_string(split.kind)), r);
  }
  watch_comm(context, groups);
  return out;
}

}  // namespace parm::backend::cuda
