// `parm calibrate`'s families on a device, under mpiexec. -np 1 on backend cuda (NCCL; every group has one
// rank, so no collective is swept): the compute fits at the layer's dtype (bf16) and, as on every GPU
// backend, the GEMM at fp32 and fp16 and the experts at fp16, each with samples and a fit; the recorded
// transport is NCCL's. -np 2 on backend cuda+mpi (the two ranks share the GPU; MPI staged through pinned
// host memory): every collective on every communicator of EP 2, each size's output checked (a wrong element
// throws), algbw/busbw/#wrong in the table, the transport and every rank's device recorded. Exits 77
// without a device.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "engine/calibrate/collectives.h"
#include "engine/calibrate/compute.h"
#include "engine/calibrate/harness.h"
#include "engine/calibrate/run_environment.h"
#include "engine/comm/comm_mpi.h"
#include "engine/comm/mpi_world.h"
#include "engine/core/rank_layout.h"
#include "engine/run/rank_backend.h"
#include "kernels/cuda/device_info.h"
#include "tests/support/gpu_check.h"

using namespace parm;
using namespace parm::calibrate;
using namespace std::chrono_literals;

namespace {

comm::MpiWorld* g_world = nullptr;

Config small_config(int ranks) {
  Config c;
  c.name = "calibrate-gpu";
  c.layer.batch = 2;
  c.layer.seq_len = 64;
  c.layer.hidden = 256;
  c.layer.ffn_hidden = 1024;
  c.layer.num_experts = 4;
  c.layer.top_k = 2;
  c.layer.dtype = DType::Bf16;
  c.parallel = {ranks, ranks, 1, 1};
  c.run.backend = ranks == 1 ? parm::Backend::Cuda : parm::Backend::CudaMpi;
  return c;
}

SweepOptions small_sweep(bool quick) {
  SweepOptions s;
  s.begin = 64 * 1024;
  s.end = 4 * 1024 * 1024;
  s.factor = 8;
  s.iters = 5;
  s.warmup = 2;
  s.quick = quick;
  return s;
}

const Measurement* find(const std::vector<Measurement>& fits, const std::string& op,
                        const std::string& communicator = "") {
  for (const Measurement& m : fits)
    if (m.op == op && (communicator.empty() || m.communicator == communicator)) return &m;
  return nullptr;
}

void print_table(const std::string& table) {
  if (g_world->rank() == 0) std::printf("%s", table.c_str());
}

}  // namespace

PARM_GPU_CASE(computeFitsPerDtype) {
  const comm::MpiWorld& world = *g_world;
  const Config c = small_config(world.size());
  const auto backend = make_rank_backend(c, world.rank(), 60'000ms);
  const Harness harness(world, small_sweep(true));
  std::vector<Measurement> fits;
  std::ostringstream table;
  time_compute(c, *backend, harness, fits, table);
  print_table(table.str());
  PARM_CHECK(compute_dtype(DType::Bf16, *backend) == DType::Bf16, "the cuda backend computes in bf16");
  for (const char* op : {"gemm", "experts", "experts_bwd", "copy", "gate", "order", "combine", "gemm_fp32",
                         "gemm_fp16", "experts_fp16", "experts_bwd_fp16"}) {
    const Measurement* m = find(fits, op);
    PARM_CHECK(m != nullptr, op);
    if (!m) continue;
    PARM_CHECK(m->samples.size() >= 3, op);
    PARM_CHECK(m->fit.fitted, op);
    for (const FitSample& s : m->samples) PARM_CHECK(s.t > 0 && s.t < 1000, op);
  }
  PARM_CHECK(find(fits, "gemm_bf16") == nullptr, "the layer's dtype is the plain gemm fit");
  PARM_CHECK(find(fits, "experts") && find(fits, "experts")->shape.find("Hs 1024") != std::string::npos,
             "the experts fit's shape family");
  PARM_CHECK(table.str().find("(local, each rank, fp16)") != std::string::npos, "the fp16 tables");
}

PARM_GPU_CASE(collectivesCheckedOnEveryCommunicator) {
  const comm::MpiWorld& world = *g_world;
  const Config c = small_config(world.size());
  const auto backend = make_rank_backend(c, world.rank(), 60'000ms);
  const RecordedEnvironment where = record_environment(*backend, world);
  if (world.rank() == 0) {
    std::printf("# transport %s; comm_library '%s'; device %s\n", where.transport.c_str(),
                where.comm_library.c_str(), where.devices.empty() ? "" : where.devices[0].c_str());
    PARM_CHECK(where.devices.size() == std::size_t(world.size()), "every rank's device on rank 0");
    for (const std::string& d : where.devices) PARM_CHECK(d != "cpu" && !d.empty(), d);
  }
  if (world.size() == 1) {
    PARM_CHECK(where.backend == "cuda", where.backend);
    PARM_CHECK(where.transport.rfind("NCCL", 0) == 0, where.transport);
    return;  // every group has one rank: nothing to sweep
  }
  PARM_CHECK(where.backend == "cuda+mpi", where.backend);
  PARM_CHECK(where.transport.rfind("MPI staged through pinned host memory", 0) == 0, where.transport);
  const RankLayout layout = make_rank_layout(c, world.rank());
  const comm::CommGroups transport = comm::make_mpi_groups(layout, 60'000ms);
  const backend::StreamGroups groups = backend->make_groups(transport);
  const Harness harness(world, small_sweep(false));
  std::vector<Measurement> fits;
  std::ostringstream table;
  time_collectives(c, *backend, groups, harness, fits, table);  // throws on a wrong element
  backend->synchronize();
  world.barrier();
  print_table(table.str());
  for (const char* comm : {"EP", "EP#fused"}) PARM_CHECK(find(fits, "alltoall", comm) != nullptr, comm);
  PARM_CHECK(find(fits, "p2p", "EP") != nullptr, "p2p");
  PARM_CHECK(find(fits, "allgather") == nullptr, "MP groups of one are not swept");
  PARM_CHECK(table.str().find("#wrong") != std::string::npos, "the #wrong column");
  for (const Measurement& m : fits)
    PARM_CHECK(m.samples.size() == 3 && m.fit.fitted, m.op + " " + m.communicator);
}

int main() {
  comm::MpiWorld world;
  g_world = &world;
  const kernels::cuda::DeviceProbe probe = kernels::cuda::probe_devices();
  if (!std::getenv("PARM_CUDA_MODULE"))
    setenv("PARM_CUDA_MODULE", PARM_BINARY_DIR "/engine/libparm_cuda.so", 0);
  const int code = parm_gpu_test::run_all(probe.devices.empty() ? "no CUDA device: " + probe.error : "");
  const int worst = int(world.max(double(code)));  // every rank's checks count
  return worst;
}
