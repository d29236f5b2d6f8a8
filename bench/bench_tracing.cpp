// Tracing overhead: the same executor run with and without the op tracer, alternating every iteration so both
// see the same machine state. Run under mpirun, e.g.
//   mpirun -np 4 build/bench/parm_bench_tracing --iterations 30 [--backend cpu|cuda|cuda+mpi]
// On a backend with GPU activity capture (cuda) the traced variant also captures (CUPTI launch brackets,
// NVTX ranges kept) and collects after each iteration, outside the timed part, as `parm worker --db` does.
// Prints per schedule the median layer time (slowest rank) untraced and traced and their ratio (target
// <= 1.03), then what the capture saw.
#include <mpi.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <exception>
#include <numeric>
#include <stdexcept>

#include "engine/backend/activity_capture.h"
#include "engine/comm/comm_mpi.h"
#include "engine/core/config_json.h"
#include "engine/core/validation.h"
#include "engine/run/executor.h"
#include "engine/run/rank_backend.h"
#include "engine/run/tensor_init.h"
#include "engine/run/worker.h"
#include "profiler/phase_timer.h"
#include "resources/presets.h"

using namespace parm;

int main(int argc, char** argv) {
  CLI::App app{"Traced versus untraced layer time"};
  int iterations = 30;
  std::string preset = "default";
  std::string backend_name = "cpu";
  app.add_option("-n,--iterations", iterations, "measured iterations per variant");
  app.add_option("--backend", backend_name, "cpu, cuda or cuda+mpi")
      ->check(CLI::IsMember({"cpu", "cuda", "cuda+mpi"}));
  app.add_option("--preset", preset, "embedded preset whose layer runs (ranks = the mpirun world)");
  CLI11_PARSE(app, argc, argv);
  comm::ensure_mpi_initialized(&argc, &argv);
  int rank = 0, world = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &world);
  try {
    Config c = *config_from_json_text(*resources::embedded_preset(preset)).config;
    c.parallel.ranks = world;
    c.parallel.gpus_per_node = std::min<std::int64_t>(c.parallel.gpus_per_node, world);
    // MP and ESP groups live inside a node: shrink them to fit a smaller world (1 rank: mp = esp = 1).
    c.parallel.mp = std::gcd<std::int64_t>(c.parallel.mp, c.parallel.gpus_per_node);
    c.parallel.esp = std::gcd<std::int64_t>(c.parallel.esp, c.parallel.mp);
    c.run.iterations = iterations;
    c.run.backend = *parse_backend(backend_name);
    const ConfigIssues issues = validate(c);
    if (issues.has_errors()) throw std::runtime_error(issues.errors().front().line());
    const RankLayout layout = make_rank_layout(c, rank);
    comm::CommGroups groups = comm::make_mpi_groups(layout, std::chrono::milliseconds(60'000));
    const std::unique_ptr<backend::Backend> backend =
        make_rank_backend(c, rank, std::chrono::milliseconds(60'000));
    // The worker's GPU capture (nullptr on cpu); the NVTX log is reused per iteration, as the trace is.
    const std::unique_ptr<backend::ActivityCapture> capture = backend->start_activity_capture();
    const bool capturing = capture && capture->unavailable().empty();
    if (capture && !capturing && rank == 0) std::fprintf(stderr, "%s\n", capture->unavailable().c_str());
    profiler::GpuActivity activity;
    std::int64_t kernels = 0, dropped = 0;
    const std::int64_t sm = c.layer.tokens() * c.layer.hidden;
    std::vector<float> x(static_cast<std::size_t>(sm)), dout(x.size());
    fill(x.data(), sm, c.run.seed, TensorId::Input, static_cast<std::uint64_t>(layout.mp_group * sm), 1.0);
    fill(dout.data(), sm, c.run.seed, TensorId::OutputGrad, static_cast<std::uint64_t>(layout.mp_group * sm),
         1.0);
    profiler::OpTracer tracer(expected_trace_events(c, c.run.schedules) * 2);
    profiler::NvtxRangeLog nvtx_log(expected_trace_events(c, c.run.schedules) * 2);
    if (rank == 0)
      std::printf(
          "# %d ranks, backend %s%s, preset %s, %d iterations per variant, slowest rank, median ms\n#%-7s "
          "%12s "
          "%12s %8s\n",
          world, backend_name.c_str(), capturing ? " (GPU capture)" : "", preset.c_str(), iterations, "sched",
          "untraced", "traced", "ratio");
    double sum_plain = 0, sum_traced = 0;
    for (ScheduleKind kind : c.run.schedules) {
      LayerExecutor<float> exec(*backend, c, layout, groups, build_schedule(kind, c.parallel));
      std::vector<double> times[2];
      for (int it = -2; it < iterations; ++it) {
        for (int traced = 0; traced < 2; ++traced) {
          tracer.clear();
          exec.set_trace(traced ? &tracer : nullptr, it);
          exec.set_gpu_capture(traced && capturing ? capture.get() : nullptr,
                               traced && capturing ? &nvtx_log : nullptr);
          groups.world->barrier();
          const auto t0 = std::chrono::steady_clock::now();
          exec.forward(x);
          exec.backward(dout);
          double ms =
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
          groups.world->all_reduce(&ms, 1, comm::DataType::F64, comm::ReduceOp::Max);
          if (it >= 0) times[traced].push_back(ms);
          if (capturing) {  // outside the timed part, as the worker collects
            activity = {};
            capture->collect(activity);
            nvtx_log.move_into(activity);
            if (it >= 0 && traced) {
              kernels += static_cast<std::int64_t>(activity.kernels.size());
              dropped += activity.dropped_records;
            }
          }
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
    if (capturing) {
      std::int64_t totals[2] = {kernels, dropped};
      groups.world->all_reduce(totals, 2, comm::DataType::I64, comm::ReduceOp::Sum);
      if (rank == 0)
        std::printf("# GPU capture, traced iterations, all ranks: %lld kernels, %lld dropped records\n",
                    static_cast<long long>(totals[0]), static_cast<long long>(totals[1]));
    }
  } catch (const std::exception& e) {  // no device, a refused layout: one line, then take every rank down
    std::fprintf(stderr, "parm_bench_tracing: rank %d: %s\n", rank, e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  MPI_Finalize();
  return 0;
}
