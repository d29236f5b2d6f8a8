#include "engine/comm/comm_mpi.h"

#include <algorithm>
#include <climits>
#include <cstring>
#include <mutex>
#include <sstream>
#include <thread>
#include <utility>

#include "engine/comm/liveness_mpi.h"

namespace parm::comm {

std::size_t size_of(DataType t) {
  switch (t) {
    case DataType::F32:
      return 4;
    case DataType::F64:
      return 8;
    case DataType::BF16:
    case DataType::F16:
      return 2;
    case DataType::I64:
      return 8;
  }
  return 0;
}

std::string_view to_string(GroupKind kind) {
  static constexpr std::string_view kNames[kGroupKindCount] = {
      "world", "MP", "ESP", "EP", "MP#fused", "ESP#fused", "EP#fused", "EP-intra", "EP-inter"};
  return kNames[static_cast<int>(kind)];
}

Communicator& CommGroups::of(GroupKind kind) const {
  const std::unique_ptr<Communicator>& c = this->*kMembers[static_cast<int>(kind)];
  if (!c) throw CommError("this rank has no " + std::string(to_string(kind)) + " group");
  return *c;
}

namespace {

// MPI has no built-in 16-bit float types, so BF16/F16 can be moved (as bytes) but not reduced on the cpu
// transport; nothing reduces them yet.
MPI_Datatype mpi_type(DataType t) {
  switch (t) {
    case DataType::BF16:
    case DataType::F16:
      throw CommError("reductions over " + std::string(t == DataType::BF16 ? "bf16" : "fp16") +
                      " are not supported by the MPI transport (no built-in MPI type)");
    case DataType::F32:
      return MPI_FLOAT;
    case DataType::F64:
      return MPI_DOUBLE;
    case DataType::I64:
      return MPI_INT64_T;
  }
  return MPI_DATATYPE_NULL;
}

MPI_Op mpi_op(ReduceOp op) {
  return op == ReduceOp::Max ? MPI_MAX : MPI_SUM;
}

std::string mpi_error_string(int rc) {
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) return "MPI error " + std::to_string(rc);
  return std::string(text, static_cast<std::size_t>(len));
}

// A message of `bytes` bytes as (count, datatype): MPI_BYTE while the count fits an int, otherwise one
// derived type whose extent is exactly `bytes` (GiB blocks + a byte remainder), so per-peer offsets stay
// right.
class ByteSpan {
 public:
  explicit ByteSpan(std::size_t bytes) {
    if (bytes <= static_cast<std::size_t>(INT_MAX)) {
      count_ = static_cast<int>(bytes);
      return;
    }
    constexpr std::size_t kBlock = std::size_t{1} << 30;
    const std::size_t blocks = bytes / kBlock;
    const std::size_t rest = bytes % kBlock;
    if (blocks > static_cast<std::size_t>(INT_MAX))
      throw CommError("message of " + std::to_string(bytes) + " bytes is too large for MPI");
    MPI_Datatype block = MPI_DATATYPE_NULL;
    MPI_Datatype body = MPI_DATATYPE_NULL;
    MPI_Datatype tail = MPI_DATATYPE_NULL;
    MPI_Type_contiguous(static_cast<int>(kBlock), MPI_BYTE, &block);
    MPI_Type_contiguous(static_cast<int>(blocks), block, &body);
    MPI_Type_contiguous(static_cast<int>(rest), MPI_BYTE, &tail);
    int lengths[2] = {1, 1};
    MPI_Aint displs[2] = {0, static_cast<MPI_Aint>(blocks * kBlock)};
    MPI_Datatype types[2] = {body, tail};
    MPI_Datatype combined = MPI_DATATYPE_NULL;
    MPI_Type_create_struct(2, lengths, displs, types, &combined);
    // Pin the extent to `bytes` whatever the struct's alignment padding would be.
    MPI_Type_create_resized(combined, 0, static_cast<MPI_Aint>(bytes), &type_);
    MPI_Type_commit(&type_);
    MPI_Type_free(&combined);
    MPI_Type_free(&tail);
    MPI_Type_free(&body);
    MPI_Type_free(&block);
    derived_ = true;
    count_ = 1;
  }
  ~ByteSpan() {
    if (derived_) MPI_Type_free(&type_);  // safe while a request still uses it: MPI defers the free
  }
  ByteSpan(const ByteSpan&) = delete;
  ByteSpan& operator=(const ByteSpan&) = delete;

  int count() const { return count_; }
  MPI_Datatype type() const { return type_; }

 private:
  MPI_Datatype type_ = MPI_BYTE;
  int count_ = 0;
  bool derived_ = false;
};

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator(MPI_Comm comm, std::string name, std::chrono::milliseconds timeout, bool owned,
                  std::shared_ptr<Liveness> liveness)
      : comm_(comm),
        name_(std::move(name)),
        timeout_(timeout),
        owned_(owned),
        liveness_(std::move(liveness)) {
    check(MPI_Comm_size(comm_, &size_), "Comm_size");
    check(MPI_Comm_rank(comm_, &rank_), "Comm_rank");
    // Errors on our own communicators come back as codes (turned into CommError) instead of aborting the job.
    if (owned_) MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN);
    MPI_Group group = MPI_GROUP_NULL;
    MPI_Group world = MPI_GROUP_NULL;
    MPI_Comm_group(comm_, &group);
    MPI_Comm_group(MPI_COMM_WORLD, &world);
    std::vector<int> local(static_cast<std::size_t>(size_));
    for (int i = 0; i < size_; ++i) local[static_cast<std::size_t>(i)] = i;
    world_ranks_.resize(local.size());
    MPI_Group_translate_ranks(group, size_, local.data(), world, world_ranks_.data());
    MPI_Group_free(&group);
    MPI_Group_free(&world);
    std::ostringstream s;
    s << "group " << name_ << " (world ranks ";
    for (int i = 0; i < size_; ++i) s << (i ? "," : "") << world_ranks_[static_cast<std::size_t>(i)];
    s << ")";
    description_ = s.str();
  }

  ~MpiCommunicator() override {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (finalized) return;
    drain_abandoned();
    // Requests still pending here (a peer never joined) cannot be freed (MPI forbids freeing collective
    // requests); MPI_Comm_free lets them complete or die with the job.
    if (owned_) MPI_Comm_free(&comm_);
  }

  MpiCommunicator(const MpiCommunicator&) = delete;
  MpiCommunicator& operator=(const MpiCommunicator&) = delete;

  int size() const override { return size_; }
  int rank() const override { return rank_; }
  std::string name() const override { return name_; }
  int world_rank_of(int group_rank) const override {
    if (group_rank < 0 || group_rank >= size_)
      throw CommError("rank " + std::to_string(group_rank) + " is not in " + description_);
    return world_ranks_[static_cast<std::size_t>(group_rank)];
  }

  void all_to_all(const void* send, void* recv, std::size_t bytes_per_peer) override {
    drain_abandoned();
    ByteSpan span(bytes_per_peer);
    MPI_Request req = MPI_REQUEST_NULL;
    check(MPI_Ialltoall(send, span.count(), span.type(), recv, span.count(), span.type(), comm_, &req),
          "AlltoAll");
    wait({req}, "AlltoAll");
  }

  void all_to_all_v(const void* send, const std::size_t* send_bytes, void* recv,
                    const std::size_t* recv_bytes) override {
    drain_abandoned();
    std::vector<int> scounts(static_cast<std::size_t>(size_)), sdispls(scounts.size());
    std::vector<int> rcounts(scounts.size()), rdispls(scounts.size());
    const auto fill = [&](const std::size_t* bytes, std::vector<int>& counts, std::vector<int>& displs) {
      std::size_t offset = 0;
      for (std::size_t p = 0; p < counts.size(); ++p) {
        // MPI_Alltoallv takes int counts and displacements (the derived-type trick cannot vary per peer).
        if (bytes[p] > static_cast<std::size_t>(INT_MAX) || offset > static_cast<std::size_t>(INT_MAX))
          throw CommError("AlltoAllv on " + description_ + ": more than " + std::to_string(INT_MAX) +
                          " bytes per peer or in total");
        counts[p] = static_cast<int>(bytes[p]);
        displs[p] = static_cast<int>(offset);
        offset += bytes[p];
      }
    };
    fill(send_bytes, scounts, sdispls);
    fill(recv_bytes, rcounts, rdispls);
    MPI_Request req = MPI_REQUEST_NULL;
    check(MPI_Ialltoallv(send, scounts.data(), sdispls.data(), MPI_BYTE, recv, rcounts.data(), rdispls.data(),
                         MPI_BYTE, comm_, &req),
          "AlltoAllv");
    wait({req}, "AlltoAllv");
  }

  void all_gather(const void* send, void* recv, std::size_t bytes_per_rank) override {
    drain_abandoned();
    ByteSpan span(bytes_per_rank);
    MPI_Request req = MPI_REQUEST_NULL;
    check(MPI_Iallgather(send, span.count(), span.type(), recv, span.count(), span.type(), comm_, &req),
          "AllGather");
    wait({req}, "AllGather");
  }

  void reduce_scatter(const void* send, void* recv, std::size_t count_per_rank, DataType type) override {
    drain_abandoned();
    // Built-in reductions need built-in types, so the count cannot be folded into a derived type.
    if (count_per_rank > static_cast<std::size_t>(INT_MAX))
      throw CommError("ReduceScatter on " + description_ + ": " + std::to_string(count_per_rank) +
                      " elements per rank exceed the MPI count limit (" + std::to_string(INT_MAX) + ")");
    MPI_Request req = MPI_REQUEST_NULL;
    check(MPI_Ireduce_scatter_block(send, recv, static_cast<int>(count_per_rank), mpi_type(type), MPI_SUM,
                                    comm_, &req),
          "ReduceScatter");
    wait({req}, "ReduceScatter");
  }

  void all_reduce(void* buffer, std::size_t count, DataType type, ReduceOp op) override {
    drain_abandoned();
    // Elementwise, so counts over INT_MAX split into independent chunks (same chunking on every rank).
    constexpr std::size_t kChunk = static_cast<std::size_t>(INT_MAX);
    std::vector<MPI_Request> reqs;
    char* base = static_cast<char*>(buffer);
    std::size_t offset = 0;
    do {
      const std::size_t n = std::min(kChunk, count - offset);
      MPI_Request req = MPI_REQUEST_NULL;
      check(MPI_Iallreduce(MPI_IN_PLACE, base + offset * size_of(type), static_cast<int>(n), mpi_type(type),
                           mpi_op(op), comm_, &req),
            "AllReduce");
      reqs.push_back(req);
      offset += n;
    } while (offset < count);
    wait(std::move(reqs), "AllReduce");
  }

  void send_recv(const void* send, std::size_t send_bytes, int dst, void* recv, std::size_t recv_bytes,
                 int src) override {
    drain_abandoned();
    if (dst < 0 || dst >= size_ || src < 0 || src >= size_)
      throw CommError("SendRecv on " + description_ + ": peer " +
                      std::to_string(dst < 0 || dst >= size_ ? dst : src) + " is not in the group");
    if (dst == rank_ || src == rank_) {
      // A self step is a local copy; a self send paired with a remote receive would never match.
      if (dst != src)
        throw CommError("SendRecv on " + description_ + ": dst " + std::to_string(dst) + " and src " +
                        std::to_string(src) + " must both be this rank or both be peers");
      if (send_bytes != recv_bytes)
        throw CommError("SendRecv on " + description_ + ": local copy of " + std::to_string(send_bytes) +
                        " bytes into a " + std::to_string(recv_bytes) + "-byte buffer");
      if (send_bytes) std::memmove(recv, send, send_bytes);
      return;
    }
    ByteSpan out(send_bytes);
    ByteSpan in(recv_bytes);
    std::vector<MPI_Request> reqs(2, MPI_REQUEST_NULL);
    check(MPI_Irecv(recv, in.count(), in.type(), src, kTag, comm_, &reqs[0]), "SendRecv");
    check(MPI_Isend(send, out.count(), out.type(), dst, kTag, comm_, &reqs[1]), "SendRecv");
    wait(std::move(reqs), "SendRecv");
  }

  void barrier() override {
    drain_abandoned();
    MPI_Request req = MPI_REQUEST_NULL;
    check(MPI_Ibarrier(comm_, &req), "Barrier");
    wait({req}, "Barrier");
  }

 private:
  static constexpr int kTag = 0x5a17;

  void check(int rc, const char* op) const {
    if (rc != MPI_SUCCESS)
      throw CommError(std::string(op) + " on " + (description_.empty() ? name_ : description_) +
                      " failed: " + mpi_error_string(rc));
  }

  // Polls until every request completes or the deadline passes. MPI progresses a transfer only inside MPI
  // calls, so the first milliseconds poll with a yield (large messages move in many fragments and must not
  // wait on a sleep between them; yielding lets oversubscribed peer ranks run); after that the sleep grows to
  // 1 ms so a long wait for a slow peer costs little CPU.
  void wait(std::vector<MPI_Request> reqs, const char* op) {
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + timeout_;
    const auto busy_until = start + std::chrono::milliseconds(5);
    auto pause = std::chrono::microseconds(10);
    for (;;) {
      int flag = 0;
      check(MPI_Testall(static_cast<int>(reqs.size()), reqs.data(), &flag, MPI_STATUSES_IGNORE), op);
      if (flag) return;
      if (liveness_) liveness_->serve();  // a peer that timed out may be asking whether we are alive
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) break;
      if (now < busy_until) {
        std::this_thread::yield();
        continue;
      }
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::microseconds(1000));
    }
    {
      // Keep the requests so they can finish if the peer shows up late (tested before each later call).
      std::lock_guard lock(abandoned_mutex_);
      for (MPI_Request r : reqs)
        if (r != MPI_REQUEST_NULL) abandoned_.push_back(r);
    }
    if (!liveness_)
      throw CommError(std::string(op) + " on " + description_ + " did not complete within " +
                      std::to_string(timeout_.count()) + " ms: a peer rank died or is stuck");
    throw CommError(std::string(op) + " on " + description_ + " did not complete: " + who_did_not_answer());
  }

  // Names the ranks that stopped answering, so the report blames them and not this rank, which only noticed.
  std::string who_did_not_answer() {
    const std::string within = "within --timeout-ms " + std::to_string(timeout_.count());
    const auto window =
        std::clamp(timeout_ / 2, std::chrono::milliseconds(100), std::chrono::milliseconds(2000));
    const std::vector<int> silent = liveness_->unresponsive(window);
    if (silent.empty())
      return "every peer still answers, yet it did not finish " + within + " (a slow peer?)";
    std::string line = "rank " + std::to_string(silent.front()) + " did not answer " + within;
    for (std::size_t i = 1; i < silent.size(); ++i)
      line += (i == 1 ? " (nor did rank " : ", ") + std::to_string(silent[i]) +
              (i + 1 == silent.size() ? ")" : "");
    return line;
  }

  void drain_abandoned() {
    std::lock_guard lock(abandoned_mutex_);
    std::erase_if(abandoned_, [](MPI_Request& r) {
      int flag = 0;
      MPI_Test(&r, &flag, MPI_STATUS_IGNORE);
      return flag != 0;
    });
  }

  MPI_Comm comm_;
  std::string name_;
  std::chrono::milliseconds timeout_;
  bool owned_;
  int size_ = 0;
  int rank_ = 0;
  std::shared_ptr<Liveness> liveness_;  // shared by every group of one rank; null: no diagnosis
  std::vector<int> world_ranks_;
  std::string description_;
  std::mutex abandoned_mutex_;
  std::vector<MPI_Request> abandoned_;
};

// Bounded world barrier before the blocking MPI_Comm_split calls, so a dead rank is reported, not waited on.
void bounded_world_barrier(std::chrono::milliseconds timeout) {
  MPI_Comm dup = MPI_COMM_NULL;
  if (MPI_Comm_dup(MPI_COMM_WORLD, &dup) != MPI_SUCCESS) throw CommError("MPI_Comm_dup of the world failed");
  auto world = wrap_mpi_comm(dup, "world", timeout, true);
  world->barrier();
}

MPI_Comm split(int color, int key, const char* what) {
  MPI_Comm out = MPI_COMM_NULL;
  const int rc = MPI_Comm_split(MPI_COMM_WORLD, color, key, &out);
  if (rc != MPI_SUCCESS)
    throw CommError(std::string("MPI_Comm_split for ") + what + " failed: " + mpi_error_string(rc));
  return out;
}

void expect_members(const Communicator& c, const std::vector<int>& world_ranks) {
  bool ok = c.size() == static_cast<int>(world_ranks.size());
  for (int i = 0; ok && i < c.size(); ++i)
    ok = c.world_rank_of(i) == world_ranks[static_cast<std::size_t>(i)];
  if (!ok)
    throw CommError("group " + c.name() + " does not match the rank layout (MPI world differs from config)");
}

}  // namespace

void ensure_mpi_initialized(int* argc, char*** argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  int provided = MPI_THREAD_SINGLE;
  if (initialized) {
    MPI_Query_thread(&provided);
  } else if (const int rc = MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided); rc != MPI_SUCCESS) {
    throw CommError("MPI_Init_thread failed: " + mpi_error_string(rc));
  }
  if (provided < MPI_THREAD_MULTIPLE)
    throw CommError(
        "the MPI library does not provide MPI_THREAD_MULTIPLE (lanes call MPI from several threads)");
}

std::unique_ptr<Communicator> wrap_mpi_comm(MPI_Comm comm, std::string name,
                                            std::chrono::milliseconds timeout, bool owned,
                                            std::shared_ptr<Liveness> liveness) {
  return std::make_unique<MpiCommunicator>(comm, std::move(name), timeout, owned, std::move(liveness));
}

CommGroups make_mpi_groups(const RankLayout& layout, std::chrono::milliseconds timeout) {
  int world_size = 0;
  int world_rank = 0;
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  // Every rank sees the same sizes, so a mismatch throws everywhere before any collective is entered.
  if (layout.world != world_size)
    throw CommError("the layout has " + std::to_string(layout.world) + " ranks but MPI runs " +
                    std::to_string(world_size));
  if (layout.rank != world_rank)
    throw CommError("layout of rank " + std::to_string(layout.rank) + " used on MPI rank " +
                    std::to_string(world_rank));
  bounded_world_barrier(timeout);

  CommGroups g;
  const auto live = std::make_shared<Liveness>(MPI_COMM_WORLD);
  MPI_Comm world = MPI_COMM_NULL;
  if (MPI_Comm_dup(MPI_COMM_WORLD, &world) != MPI_SUCCESS)
    throw CommError("MPI_Comm_dup of the world failed");
  g.world = wrap_mpi_comm(world, "world", timeout, true, live);
  g.mp = wrap_mpi_comm(split(layout.mp_group, layout.mp_index, "MP"), "MP", timeout, true, live);
  g.mp_fused =
      wrap_mpi_comm(split(layout.mp_group, layout.mp_index, "MP#fused"), "MP#fused", timeout, true, live);
  // N_ESP = N_MP: the MP group's ranks; N_ESP = 1: each rank alone (a colour of its own).
  const int esp_color = layout.esp_size == 1 ? layout.rank : layout.mp_group;
  g.esp = wrap_mpi_comm(split(esp_color, layout.mp_index, "ESP"), "ESP", timeout, true, live);
  g.esp_fused =
      wrap_mpi_comm(split(esp_color, layout.mp_index, "ESP#fused"), "ESP#fused", timeout, true, live);
  g.ep = wrap_mpi_comm(split(layout.mp_index, layout.ep_index, "EP"), "EP", timeout, true, live);
  g.ep_fused =
      wrap_mpi_comm(split(layout.mp_index, layout.ep_index, "EP#fused"), "EP#fused", timeout, true, live);
  // The 2DH sub-groups: colours unique per (node, MP index) and per (local EP index, MP index).
  g.ep_intra =
      wrap_mpi_comm(split(layout.node * layout.mp_size + layout.mp_index, layout.ep_local_index, "EP-intra"),
                    "EP-intra", timeout, true, live);
  g.ep_inter = wrap_mpi_comm(
      split(layout.ep_local_index * layout.mp_size + layout.mp_index, layout.ep_node_index, "EP-inter"),
      "EP-inter", timeout, true, live);
  expect_members(*g.ep_intra, layout.ep_intra_ranks);
  expect_members(*g.ep_inter, layout.ep_inter_ranks);
  expect_members(*g.mp, layout.mp_ranks);
  expect_members(*g.mp_fused, layout.mp_ranks);
  expect_members(*g.esp, layout.esp_ranks);
  expect_members(*g.esp_fused, layout.esp_ranks);
  expect_members(*g.ep, layout.ep_ranks);
  expect_members(*g.ep_fused, layout.ep_ranks);
  return g;
}

}  // namespace parm::comm
