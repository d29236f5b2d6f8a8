// The backend's collectives: each call is enqueued on a stream and returns at once; the transfer runs when
// the stream reaches it (cpu: the blocking transport of engine/comm on the stream's thread; cuda later: NCCL
// on the CUDA stream). Counts are elements of `type`.
#pragma once

#include <array>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "engine/backend/stream.h"
#include "engine/comm/communicator.h"

namespace parm::backend {

using comm::DataType;
using comm::GroupKind;
using comm::ReduceOp;

class StreamCommunicator {
 public:
  virtual ~StreamCommunicator() = default;
  virtual int size() const = 0;
  virtual int rank() const = 0;
  virtual std::string name() const = 0;

  virtual void all_to_all(Stream& s, const void* send, void* recv, std::size_t count_per_peer,
                          DataType type) = 0;
  // Per-peer counts, blocks packed in peer order.
  virtual void all_to_all_v(Stream& s, const void* send, std::vector<std::size_t> send_counts, void* recv,
                            std::vector<std::size_t> recv_counts, DataType type) = 0;
  virtual void all_gather(Stream& s, const void* send, void* recv, std::size_t count_per_rank,
                          DataType type) = 0;
  // Sum over ranks of their block rank() (count_per_rank elements).
  virtual void reduce_scatter(Stream& s, const void* send, void* recv, std::size_t count_per_rank,
                              DataType type) = 0;
  virtual void all_reduce(Stream& s, void* buffer, std::size_t count, DataType type, ReduceOp op) = 0;
  virtual void send_recv(Stream& s, const void* send, std::size_t send_count, int dst, void* recv,
                         std::size_t recv_count, int src, DataType type) = 0;
  virtual void barrier(Stream& s) = 0;
};

// A rank's groups as the backend drives them, looked up by kind.
struct StreamGroups {
  std::array<std::unique_ptr<StreamCommunicator>, comm::kGroupKindCount> by_kind;

  StreamCommunicator& operator[](GroupKind kind) const;
};

}  // namespace parm::backend
