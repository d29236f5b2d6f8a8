// Tracing overhead: the same executor run with and without the op tracer, alternating every iteration so both
// see the same machine state. Run under mpirun, e.g.
//   mpirun -np 4 build/bench/parm_bench_tracing --iterations 30
// Prints per schedule the median layer time (slowest rank) untraced and traced and their ratio (target
// <= 1.03).
#include <mpi.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>

#include "engine/comm/comm_mpi.h"
#include "engine/core/config_json.h"
#include "engine/run/executor.h"
#include "engine/run/tensor_init.h"
#include "engine/run/worker.h"
#include "profiler/phase_timer.h"
#include "resources/presets.h"

using namespace parm;

int main(int argc, char** argv) {
  CLI::App app{"Traced versus untraced layer time"};
  int iterations = 30;
  std::string preset = "default";
  app.add_option("-n,--iterations", iterations, "measured iterations per variant");
  app.add_option("--preset", preset, "embedded preset whose layer runs (ranks = the mpirun world)");
  CLI11_PARSE(app, argc, argv);
  comm::ensure_mpi_initialized(&argc, &argv);
  int rank = 0, world = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  {
    Config c = *config_from_json_text(*resources::embedded_preset(preset)).config;
    c.parallel.ranks = world;
    c.parallel.gpus_per_node = std::min<std::int64_t>(c.parallel.gpus_per_node, world);
    c.run.iterations = iterations;
    const RankLayout layout = make_rank_layout(c, rank);
    comm::CommGroups groups = comm::make_mpi_groups(layout, std::chrono::milliseconds(60'000));
    const std::int64_t sm = c.layer.tokens() * c.layer.hidden;
    std::vector<float> x(static_cast<std::size_t>(sm)), dout(x.size());
    fill(x.data(), sm, c.run.seed, TensorId::Input, static_cast<std::uint64_t>(layout.mp_group * sm), 1.0);
    fill(dout.data(), sm, c.run.seed, TensorId::OutputGrad, static_cast<std::uint64_t>(layout.mp_group * sm),
         1.0);
    profiler::OpTracer tracer(expected_trace_events(c, c.run.schedules) * 2);
    if (rank == 0)
      std::printf(
          "# %d ranks, preset %s, %d iterations per variant, slowest rank, median ms\n#%-7s %12s %12s %8s\n",
          world, preset.c_str(), iterations, "sched", "untraced", "traced", "ratio");
    double sum_plain = 0, sum_traced = 0;
    for (ScheduleKind kind : c.run.schedules) {
      LayerExecutor<float> exec(c, layout, groups, build_schedule(kind, c.parallel));
      std::vector<double> times[2];
      for (int it = -2; it < iterations; ++it) {
        for (int traced = 0; traced < 2; ++traced) {
          tracer.clear();
          exec.set_trace(traced ? &tracer : nullptr, it);
          groups.world->barrier();
          const auto t0 = std::chrono::steady_clock::now();
          exec.forward(x);
          exec.backward(dout);
          double ms =
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
          groups.world->all_reduce(&ms, 1, comm::DataType::F64, comm::ReduceOp::Max);
          if (it >= 0) times[traced].push_back(ms);
        }
      }
      const double plain = profiler::median(times[0]), traced = profiler::median(times[1]);
      sum_plain += plain;
      sum_traced += traced;
      if (rank == 0)
        std::printf("%-8s %12.3f %12.3f %8.3f\n", std::string(to_string(kind)).c_str(), plain, traced,
                    traced / plain);
    }
    if (rank == 0)
      std::printf("%-8s %12.3f %12.3f %8.3f\n", "all", sum_plain, sum_traced, sum_traced / sum_plain);
  }
  MPI_Finalize();
  return 0;
}
