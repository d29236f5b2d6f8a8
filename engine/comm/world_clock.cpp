#include "engine/comm/world_clock.h"

#include <mpi.h>

#include <cstdint>
#include <vector>

#include "profiler/op_tracer.h"

namespace parm::comm {
namespace {

constexpr int kPingTag = 0x7a11;

}  // namespace

profiler::ClockOffset measure_clock_offset(const MpiWorld& world, int rounds) {
  const int rank = world.rank(), size = world.size();
  const MPI_Comm comm = MPI_COMM_WORLD;
  profiler::ClockOffset mine;
  for (int peer = 1; peer < size; ++peer) {
    if (rank == 0) {
      std::vector<profiler::PingSample> samples;
      for (int i = 0; i < rounds; ++i) {
        profiler::PingSample s;
        s.local_send_ns = profiler::now_ns();
        MPI_Send(&s.local_send_ns, 1, MPI_INT64_T, peer, kPingTag, comm);
        MPI_Recv(&s.remote_ns, 1, MPI_INT64_T, peer, kPingTag, comm, MPI_STATUS_IGNORE);
        s.local_recv_ns = profiler::now_ns();
        samples.push_back(s);
      }
      const profiler::ClockOffset o = profiler::estimate_offset(samples);
      const double pair[2] = {o.offset_ns, o.uncertainty_ns};
      MPI_Send(pair, 2, MPI_DOUBLE, peer, kPingTag, comm);
    } else if (rank == peer) {
      for (int i = 0; i < rounds; ++i) {
        std::int64_t ping = 0;
        MPI_Recv(&ping, 1, MPI_INT64_T, 0, kPingTag, comm, MPI_STATUS_IGNORE);
        const std::int64_t now = profiler::now_ns();
        MPI_Send(&now, 1, MPI_INT64_T, 0, kPingTag, comm);
      }
      double pair[2] = {0, 0};
      MPI_Recv(pair, 2, MPI_DOUBLE, 0, kPingTag, comm, MPI_STATUS_IGNORE);
      mine = {pair[0], pair[1]};
    }
  }
  return mine;
}

}  // namespace parm::comm
