// A whole model's training step on the cuda backends (issue 18), under mpiexec (-np 1, 2; ranks share the
// GPU): the Transformer blocks on kernels/cuda (transformer_cuda.cu) and cuBLAS, the MoE layers on the cuda
// Compute, the TP and DP collectives on NCCL (`cuda`, one rank per GPU) or host-staged MPI (`cuda+mpi`); the
// loss and every gradient equal the single-process reference model, fp64 to 1e-8 and fp32 to 1e-4, for GPT
// and BERT styles and every schedule. Exits 77 without a device.
#include <mpi.h>

#include <memory>
#include <string>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/comm/comm_mpi.h"
#include "engine/core/rank_layout.h"
#include "engine/core/validation.h"
#include "kernels/cuda/device_info.h"
#include "tests/support/gpu_check.h"
#include "tests/support/model_step_check.h"

using namespace parm;

namespace {

struct World {
  int rank = 0, size = 1, devices = 0;
};
World* world = nullptr;

double world_max(double v) {
  double out = std::isnan(v) ? 1e300 : v;
  MPI_Allreduce(MPI_IN_PLACE, &out, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
  return out;
}

// The backends this world can run: cuda+mpi always; NCCL's cuda only with a GPU per rank.
std::vector<parm::Backend> backends() {
  std::vector<parm::Backend> out{parm::Backend::CudaMpi};
  if (world->devices >= world->size) out.push_back(parm::Backend::Cuda);
  return out;
}

template <typename T>
void check(Config c, parm::Backend kind, ScheduleKind schedule, double tolerance) {
  c.run.backend = kind;
  c.layer.dtype = std::is_same_v<T, double> ? DType::Fp64 : DType::Fp32;
  PARM_CHECK(!validate(c, MachineLimits{}).has_errors(), "config invalid");
  const ReferenceModelResult<double> ref = run_reference_model<double>(c);
  const RankLayout layout = make_rank_layout(c, world->rank);
  comm::CommGroups groups = comm::make_mpi_groups(layout, std::chrono::milliseconds(30'000));
  backend::BackendOptions options;
  options.kind = kind;
  options.rank = world->rank;
  options.local_rank = world->rank;
  options.local_size = world->size;
  auto backend = backend::make_backend(options);
  const std::vector<ScheduleKind> kinds(static_cast<std::size_t>(c.model->moe_blocks()), schedule);
  ModelExecutor<T> exec(*backend, c, layout, groups, kinds);
  exec.step();
  exec.step();
  const parm::test::StepError e = parm::test::model_step_error(c, layout, exec, ref);
  const double worst = world_max(e.error);
  PARM_CHECK(worst < tolerance, std::string(to_string(kind)) + " " + std::string(to_string(schedule)) +
                                    " mp " + std::to_string(c.parallel.mp) + ": " + e.tensor + " " +
                                    std::to_string(e.error));
}

PARM_GPU_CASE(gptEveryScheduleFp64) {
  for (parm::Backend kind : backends())
    for (std::int64_t mp : {std::int64_t(world->size), std::int64_t(1)}) {
      const Config c = parm::test::model_step_config(ModelStyle::Gpt, world->size, mp, mp, 2);
      for (ScheduleKind s : all_schedules()) check<double>(c, kind, s, 1e-8);
    }
}

PARM_GPU_CASE(bertEveryBlockMoeFp32) {
  for (parm::Backend kind : backends()) {
    const Config c = parm::test::model_step_config(ModelStyle::Bert, world->size, world->size, 1, 1);
    check<float>(c, kind, ScheduleKind::S1, 1e-4);
    check<float>(c, kind, ScheduleKind::S2F, 1e-4);
  }
}

}  // namespace

int main(int argc, char** argv) {
  comm::ensure_mpi_initialized(&argc, &argv);
  int code = 0;
  {
    World w;
    MPI_Comm_rank(MPI_COMM_WORLD, &w.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &w.size);
    const kernels::cuda::DeviceProbe probe = kernels::cuda::probe_devices();
    if (probe.devices.empty()) {
      code = parm_gpu_test::run_all(w.rank == 0 ? probe.error : "no device on this rank");
    } else {
      w.devices = static_cast<int>(probe.devices.size());
      world = &w;
      code = parm_gpu_test::run_all("");
      world = nullptr;
    }
  }
  int worst = code;
  MPI_Allreduce(&code, &worst, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return worst;
}
