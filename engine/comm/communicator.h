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
#include <vector>

namespace parm::comm {

enum class DataType { F32, F64, I64 };
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

// The groups of one rank, each built twice: `*_fused` communicators carry the pairwise steps of fused
// pipelines, so their messages never match an ordinary collective issued on the same group from another lane.
struct CommGroups {
  std::unique_ptr<Communicator> world;
  std::unique_ptr<Communicator> mp;  // MP group (= ESP group when N_ESP = N_MP)
  std::unique_ptr<Communicator> ep;  // EP group
  std::unique_ptr<Communicator> mp_fused;
  std::unique_ptr<Communicator> ep_fused;
};

}  // namespace parm::comm
