// One process group's collectives, as the executor sees them. Calls are made from a lane's worker thread and
// block that lane only; every wait is bounded, so a dead or hung peer becomes a CommError naming the
// operation, the group and the peers instead of a hang. Implementations: comm_mpi.cpp (Open MPI, CPU
// buffers); NCCL and host-staged MPI for CUDA buffers later, behind the same interface.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace parm::comm {

enum class DataType { F32, F64, BF16, F16, I64 };
enum class ReduceOp { Sum, Max };

std::size_t size_of(DataType t);

class CommError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int size() const = 0;
  virtual int rank() const = 0;          // rank inside this group
  virtual std::string name() const = 0;  // "EP", "MP", "MP#fused", ... used in error messages
  virtual int world_rank_of(int group_rank) const = 0;

  // recv[p*bytes_per_peer ...] <- block sent by peer p; send[p*bytes_per_peer ...] goes to peer p.
  virtual void all_to_all(const void* send, void* recv, std::size_t bytes_per_peer) = 0;
  // Uneven AlltoAll: send_bytes[p] bytes go to peer p, recv_bytes[p] come from it; both buffers hold the
  // blocks packed in peer order (one entry per group rank in each array).
  virtual void all_to_all_v(const void* send, const std::size_t* send_bytes, void* recv,
                            const std::size_t* recv_bytes) = 0;
  // recv = concatenation over group ranks of each rank's send block (rank order).
  virtual void all_gather(const void* send, void* recv, std::size_t bytes_per_rank) = 0;
  // recv (count_per_rank elements) = sum over ranks of their send[rank()*count_per_rank ...] block.
  virtual void reduce_scatter(const void* send, void* recv, std::size_t count_per_rank, DataType type) = 0;
  virtual void all_reduce(void* buffer, std::size_t count, DataType type, ReduceOp op) = 0;
  // One pairwise step of a pipelined exchange: send to group rank `dst`, receive from group rank `src`
  // (either may be this rank: then it is a local copy).
  virtual void send_recv(const void* send, std::size_t send_bytes, int dst, void* recv,
                         std::size_t recv_bytes, int src) = 0;
  virtual void barrier() = 0;
};

// The kinds of group a rank belongs to. `*Fused` communicators carry the pairwise steps of fused pipelines,
// so their messages never match an ordinary collective issued on the same group from another lane. EPIntra
// and EPInter are the two sub-groups of the hierarchical (2DH) AlltoAll (rank_layout.h): the EP ranks on this
// rank's node, and the EP ranks with this rank's local EP index on every node. A new kind is one enumerator
// here plus one row in CommGroups::kMembers.
enum class GroupKind { World, MP, ESP, EP, MPFused, ESPFused, EPFused, EPIntra, EPInter };
inline constexpr int kGroupKindCount = 9;

// The groups of one rank, one communicator per GroupKind. The ESP group holds the ranks that shard the same
// experts along H: the MP group when N_ESP = N_MP, this rank alone when N_ESP = 1 (spec parm.md section 1).
struct CommGroups {
  std::unique_ptr<Communicator> world;
  std::unique_ptr<Communicator> mp;   // MP group
  std::unique_ptr<Communicator> esp;  // ESP group
  std::unique_ptr<Communicator> ep;   // EP group
  std::unique_ptr<Communicator> mp_fused;
  std::unique_ptr<Communicator> esp_fused;
  std::unique_ptr<Communicator> ep_fused;
  std::unique_ptr<Communicator> ep_intra;  // EP ranks of this node (2DH stage 1)
  std::unique_ptr<Communicator> ep_inter;  // same local EP index, one per node (2DH stage 2)

  // Which member holds each kind, in GroupKind order: the lookup is data, not a chain of ifs.
  static constexpr std::unique_ptr<Communicator> CommGroups::*kMembers[kGroupKindCount] = {
      &CommGroups::world,    &CommGroups::mp,       &CommGroups::esp,
      &CommGroups::ep,       &CommGroups::mp_fused, &CommGroups::esp_fused,
      &CommGroups::ep_fused, &CommGroups::ep_intra, &CommGroups::ep_inter};

  // The communicator of `kind`; throws CommError when this rank's groups lack it.
  Communicator& of(GroupKind kind) const;
};

std::string_view to_string(GroupKind kind);

}  // namespace parm::comm
