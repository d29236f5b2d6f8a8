// One forward and backward of a schedule on this MPI rank's executor, traced, with what the MPI exactness
// suites check afterwards: the verify report against the single-process reference, the byte counters, the
// traced-op count and the host copies of the results. A failing pass aborts the world (the peers would hang).
#pragma once

#include <chrono>
#include <cstdio>
#include <vector>

#include "engine/comm/comm_mpi.h"
#include "engine/run/executor.h"
#include "engine/run/verify.h"
#include "profiler/op_tracer.h"
#include "tests/engine/mpi_test_main.h"
#include "tests/engine/run/mp_group_tensor.h"

namespace parm::test {

template <typename T>
struct LayerOutcome {
  VerifyReport report;
  std::vector<CommCounter> counters;
  std::size_t traced = 0;
  std::vector<T> output, input_grad;
  LocalGradients<T> grads;
};

template <typename T>
LayerOutcome<T> traced_layer_run(const Config& c, ScheduleKind kind,
                                 std::chrono::milliseconds timeout = std::chrono::milliseconds(20'000)) {
  const RankLayout layout = make_rank_layout(c, world_rank());
  comm::CommGroups groups = comm::make_mpi_groups(layout, timeout);
  LayerExecutor<T> exec(c, layout, groups, build_schedule(kind, c.parallel));
  profiler::OpTracer tracer(4096);
  exec.set_trace(&tracer, 0);
  try {
    exec.forward(mp_group_tensor<T>(c, layout, TensorId::Input));
    exec.backward(mp_group_tensor<T>(c, layout, TensorId::OutputGrad));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rank %d, %s: %s\n", layout.rank, to_string(kind).data(), e.what());
    MPI_Abort(MPI_COMM_WORLD, 1);
  }
  exec.set_trace(nullptr, 0);
  LayerOutcome<T> o;
  o.counters = exec.counters();
  o.traced = tracer.events().size();
  o.output = exec.output();
  o.input_grad = exec.input_grad();
  o.grads = exec.gradients();
  o.report = verify_against_reference(c, layout, groups, exec);
  return o;
}

}  // namespace parm::test
