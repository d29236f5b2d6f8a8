#include "engine/backend/cpu/cpu_communicator.h"

#include <utility>

#include "engine/backend/cpu/cpu_streams.h"

namespace parm::backend::cpu {
namespace {

class CpuCommunicator final : public StreamCommunicator {
 public:
  explicit CpuCommunicator(comm::Communicator& transport) : t_(transport) {}

  int size() const override { return t_.size(); }
  int rank() const override { return t_.rank(); }
  std::string name() const override { return t_.name(); }

  void all_to_all(Stream& s, const void* send, void* recv, std::size_t count, DataType type) override {
    const std::size_t bytes = count * comm::size_of(type);
    cpu_stream(s).enqueue([this, send, recv, bytes] { t_.all_to_all(send, recv, bytes); });
  }

  void all_to_all_v(Stream& s, const void* send, std::vector<std::size_t> send_counts, void* recv,
                    std::vector<std::size_t> recv_counts, DataType type) override {
    for (auto* counts : {&send_counts, &recv_counts})
      for (std::size_t& c : *counts) c *= comm::size_of(type);  // the transport counts bytes
    cpu_stream(s).enqueue([this, send, recv, sb = std::move(send_counts), rb = std::move(recv_counts)] {
      t_.all_to_all_v(send, sb.data(), recv, rb.data());
    });
  }

  void all_gather(Stream& s, const void* send, void* recv, std::size_t count, DataType type) override {
    const std::size_t bytes = count * comm::size_of(type);
    cpu_stream(s).enqueue([this, send, recv, bytes] { t_.all_gather(send, recv, bytes); });
  }

  void reduce_scatter(Stream& s, const void* send, void* recv, std::size_t count, DataType type) override {
    cpu_stream(s).enqueue([this, send, recv, count, type] { t_.reduce_scatter(send, recv, count, type); });
  }

  void all_reduce(Stream& s, void* buffer, std::size_t count, DataType type, ReduceOp op) override {
    cpu_stream(s).enqueue([this, buffer, count, type, op] { t_.all_reduce(buffer, count, type, op); });
  }

  void send_recv(Stream& s, const void* send, std::size_t send_count, int dst, void* recv,
                 std::size_t recv_count, int src, DataType type) override {
    const std::size_t sb = send_count * comm::size_of(type), rb = recv_count * comm::size_of(type);
    cpu_stream(s).enqueue([=, this] { t_.send_recv(send, sb, dst, recv, rb, src); });
  }

  void barrier(Stream& s) override {
    cpu_stream(s).enqueue([this] { t_.barrier(); });
  }

 private:
  comm::Communicator& t_;
};

}  // namespace

std::unique_ptr<StreamCommunicator> make_cpu_communicator(comm::Communicator& transport) {
  return std::make_unique<CpuCommunicator>(transport);
}

}  // namespace parm::backend::cpu
