// Link speeds as the engine sees them: an AlltoAll between ranks on different nodes (one rank per node in
// each group, every local rank's group at once, as the EP AlltoAll of a 2-node layout) and an AllGather
// between the ranks of one node. Run under mpirun, e.g. on an emulated cluster (parm cluster up):
//   /run/parm-cluster/parm/mpirun -np 4 build/bench/parm_bench_links --bytes 16M --json
// inter_link_gbit_s is the payload a node sends over its link per second: G ranks x (nodes-1) peers x bytes.
#include <mpi.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/comm/comm_mpi.h"
#include "profiler/phase_timer.h"

namespace {

using namespace parm;

std::int64_t parse_size(const std::string& s) {
  const char unit = s.empty() ? ' ' : s.back();
  const std::int64_t base = std::stoll(s);
  return unit == 'K' ? base << 10 : unit == 'M' ? base << 20 : unit == 'G' ? base << 30 : base;
}

template <typename F>
std::vector<double> time_ms(comm::Communicator& world, int warmup, int iterations, F&& op) {
  std::vector<double> out;
  for (int it = 0; it < warmup + iterations; ++it) {
    world.barrier();
    const auto t0 = std::chrono::steady_clock::now();
    op();
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    world.all_reduce(&s, 1, comm::DataType::F64, comm::ReduceOp::Max);  // the slowest rank
    if (it >= warmup) out.push_back(1e3 * s);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Inter-node AlltoAll bandwidth and intra-node AllGather time"};
  std::string bytes_text = "16M";
  int iterations = 5, warmup = 1, intra_iterations = 15;
  bool json = false;
  app.add_option("--bytes", bytes_text,
                 "AlltoAll bytes per peer and AllGather bytes per rank (K/M/G suffixes)");
  app.add_option("-n,--iterations", iterations, "measured iterations");
  app.add_option("-w,--warmup", warmup, "warm-up iterations");
  app.add_option("--intra-iterations", intra_iterations, "measured AllGather iterations (they are short)");
  app.add_flag("--json", json, "one JSON object on rank 0's stdout");
  CLI11_PARSE(app, argc, argv);
  const std::size_t bytes = static_cast<std::size_t>(parse_size(bytes_text));

  comm::ensure_mpi_initialized(&argc, &argv);
  int rank = 0, world_size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  {
    const auto timeout = std::chrono::milliseconds(300'000);
    MPI_Comm node_comm, cross_comm;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node_comm);
    int local = 0, per_node = 1;
    MPI_Comm_rank(node_comm, &local);
    MPI_Comm_size(node_comm, &per_node);
    MPI_Comm_split(MPI_COMM_WORLD, local, rank, &cross_comm);  // one rank of each node
    auto world = comm::wrap_mpi_comm(MPI_COMM_WORLD, "world", timeout, false);
    auto node = comm::wrap_mpi_comm(node_comm, "node", timeout, true);
    auto cross = comm::wrap_mpi_comm(cross_comm, "cross", timeout, true);
    const int nodes = cross->size();

    std::vector<char> send(bytes * static_cast<std::size_t>(std::max(nodes, per_node)), char(rank));
    std::vector<char> recv(send.size());
    const auto a2a =
        time_ms(*world, warmup, iterations, [&] { cross->all_to_all(send.data(), recv.data(), bytes); });
    const auto ag =
        time_ms(*world, warmup, intra_iterations, [&] { node->all_gather(send.data(), recv.data(), bytes); });
    if (rank == 0) {
      const double a2a_ms = profiler::median(a2a), ag_ms = profiler::median(ag);
      const double link_bytes = double(bytes) * per_node * (nodes - 1);
      const double gbit = a2a_ms > 0 ? link_bytes * 8 / (a2a_ms * 1e-3) / 1e9 : 0;
      if (json)
        std::printf(
            "{\"nodes\": %d, \"ranks_per_node\": %d, \"bytes\": %zu, \"iterations\": %d, "
            "\"inter_alltoall_ms\": %.4f, \"inter_link_gbit_s\": %.4f, \"intra_allgather_ms\": %.4f}\n",
            nodes, per_node, bytes, iterations, a2a_ms, gbit, ag_ms);
      else
        std::printf(
            "%d nodes x %d ranks, %zu bytes, median of %d:\n"
            "  inter-node AlltoAll %10.3f ms  (%.3f Gbit/s of payload per node link)\n"
            "  intra-node AllGather %9.3f ms\n",
            nodes, per_node, bytes, iterations, a2a_ms, gbit, ag_ms);
    }
  }
  MPI_Finalize();
  return 0;
}
