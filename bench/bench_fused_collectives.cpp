// Fused SAA / RSA pipelines against their sequential collectives, measured alternately in one run so the
// ratio is not skewed by machine drift. Run under mpirun, e.g. (W = N_EP = P / mp, N = mp):
//   mpirun -np 4 build/bench/parm_bench_fused --mp 2 --sizes 16K,256K,4M --iterations 20
// Prints, per size of the per-rank AlltoAll send buffer: median ms of each variant (slowest rank) and
// fused/plain.
#include <mpi.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "engine/comm/comm_mpi.h"
#include "engine/run/executor.h"
#include "engine/run/tensor_init.h"
#include "profiler/phase_timer.h"

namespace {

using namespace parm;

std::int64_t parse_size(const std::string& s) {
  const char unit = s.empty() ? ' ' : s.back();
  const std::int64_t base = std::stoll(s);
  return unit == 'K' ? base << 10 : unit == 'M' ? base << 20 : unit == 'G' ? base << 30 : base;
}

double timed_forward(LayerExecutor<float>& exec, const std::vector<float>& x, comm::Communicator& world) {
  world.barrier();
  const auto t0 = std::chrono::steady_clock::now();
  exec.forward(x);
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  world.all_reduce(&s, 1, comm::DataType::F64, comm::ReduceOp::Max);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Fused SAA/RSA pipelines versus sequential AlltoAll + AllGather / ReduceScatter + AlltoAll"};
  int mp = 2, iterations = 20, warmup = 3;
  std::string sizes = "64K,1M,8M";
  app.add_option("--mp", mp, "MP group size N (W = world / N)");
  app.add_option("--sizes", sizes, "per-rank AlltoAll send bytes, comma separated, K/M/G suffixes");
  app.add_option("-n,--iterations", iterations, "measured iterations per variant");
  app.add_option("-w,--warmup", warmup, "warm-up iterations per variant");
  CLI11_PARSE(app, argc, argv);

  comm::ensure_mpi_initialized(&argc, &argv);
  int rank = 0, world_size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world_size);
  {
    Config c;
    c.parallel = {world_size, world_size, mp, mp};
    c.layer.hidden = 256;  // rows of 1 KiB in fp32
    c.layer.num_experts = world_size / mp;
    const RankLayout layout = make_rank_layout(c, rank);
    comm::CommGroups groups = comm::make_mpi_groups(layout, std::chrono::milliseconds(60'000));
    const std::int64_t W = layout.ep_size, N = layout.mp_size;
    if (rank == 0) {
      std::printf(
          "# %d ranks: W = N_EP = %lld, N = N_MP = %lld; fp32; %d warm-up + %d measured, slowest rank, "
          "median\n",
          world_size, (long long)W, (long long)N, warmup, iterations);
      std::printf("#%13s %12s %12s %8s %12s %12s %8s\n", "send bytes", "A2A+AG ms", "SAA ms", "ratio",
                  "RS+A2A ms", "RSA ms", "ratio");
    }
    using namespace ops;
    const Op a2a = collective(OpKind::AlltoAll, Group::EP, Dim::None, "bench");
    const Stage a2a_stage{OpKind::AlltoAll, Group::EP, Dim::None};
    auto schedule = [](std::vector<Op> ops) {
      Schedule s;
      s.forward = std::move(ops);
      return s;
    };
    std::size_t start = 0;
    while (start < sizes.size()) {
      const std::size_t comma = std::min(sizes.find(',', start), sizes.size());
      const std::int64_t bytes = parse_size(sizes.substr(start, comma - start));
      start = comma + 1;
      const std::int64_t rows = std::max<std::int64_t>(W * N, bytes / (256 * 4) / (W * N) * (W * N));
      std::vector<float> x(static_cast<std::size_t>(rows * 256));
      fill(x.data(), rows * 256, 1, TensorId::Input, static_cast<std::uint64_t>(rank) * x.size(), 1.0);
      LayerExecutor<float> plain_ag(
          c, layout, groups, schedule({a2a, collective(OpKind::AllGather, Group::MP, Dim::Peer, "bench")}));
      LayerExecutor<float> saa(
          c, layout, groups,
          schedule({pipeline({a2a_stage, {OpKind::AllGather, Group::MP, Dim::Peer}}, "bench")}));
      LayerExecutor<float> plain_rs(
          c, layout, groups,
          schedule({collective(OpKind::ReduceScatter, Group::MP, Dim::Peer, "bench"), a2a}));
      LayerExecutor<float> rsa(
          c, layout, groups,
          schedule({pipeline({{OpKind::ReduceScatter, Group::MP, Dim::Peer}, a2a_stage}, "bench")}));
      std::vector<double> t[4];
      for (int it = 0; it < warmup + iterations; ++it) {
        LayerExecutor<float>* variants[4] = {&plain_ag, &saa, &plain_rs, &rsa};
        for (int v = 0; v < 4; ++v) {
          const double s = timed_forward(*variants[v], x, *groups.world);
          if (it >= warmup) t[v].push_back(s * 1e3);
        }
      }
      if (rank == 0) {
        double m[4];
        for (int v = 0; v < 4; ++v) m[v] = profiler::median(t[v]);
        std::printf("%14lld %12.3f %12.3f %8.3f %12.3f %12.3f %8.3f\n", (long long)(rows * 256 * 4), m[0],
                    m[1], m[1] / m[0], m[2], m[3], m[3] / m[2]);
      }
    }
  }
  MPI_Finalize();
  return 0;
}
