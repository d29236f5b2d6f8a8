#include "engine/calibrate/overheads.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>

#include "engine/backend/cpu/lanes.h"
#include "kernels/cpu/blas.h"

namespace parm::calibrate {
namespace {

// The cost of synchronising after compute, as the executor pays it inside a layer: a GEMM on the compute
// lane, then a small AlltoAll on the communicator's lane that waits for it, then the next GEMM waits for the
// AlltoAll (LaneSet, the executor's own lanes). Per round the extra time over GEMM + AlltoAll alone is the
// lane handoffs (and, over TCP, the slower progress of a collective driven from a lane thread) plus the wait
// for the slowest peer, which grows with the compute every rank did since the last collective (ranks drift
// apart while computing). Fitted per communicator as extra_ms = alpha + beta * compute_ms: "sync" (EP, inter
// lane) and "sync_mp" (MP, intra lane); the model charges it once per collective of that group.
template <typename T>
void time_sync(const Config& config, comm::Communicator& comm, const char* op, const char* communicator,
               Lane lane, const Harness& harness, int iters, int warmup, std::vector<Measurement>& fits,
               std::ostream& table) {
  if (comm.size() < 2) {
    table << "#\n# " << op << ": not measured (a " << communicator
          << " group of one rank never synchronises)\n";
    return;
  }
  const std::int64_t M = std::max<std::int64_t>(config.layer.hidden, 64);
  const std::int64_t H = std::max<std::int64_t>(config.layer.ffn_hidden, 64);
  const int W = comm.size();
  const std::size_t chunk = 1024;  // bytes per peer: latency-bound, so the extra time is synchronisation
  std::vector<char> send(chunk * std::size_t(W), 1), recv(send.size(), 0);
  const auto a2a = [&] { comm.all_to_all(send.data(), recv.data(), chunk); };
  const double t_a = harness.time_op(a2a, iters, warmup);
  Measurement sync = measurement(op, communicator, W);
  char line[320];
  std::snprintf(line, sizeof line,
                "#\n# %s (%s, %d ranks): GEMM on the compute lane -> AlltoAll of %zu B per peer on the %s "
                "lane -> next GEMM, as in a layer; n = GEMM ms, extra = round - GEMM - AlltoAll (%.2f us)\n"
                "# %10s %12s %12s %12s\n",
                op, communicator, W, chunk, lane == Lane::Inter ? "inter" : "intra", t_a * 1e3, "rows",
                "gemm(us)", "round(us)", "extra(us)");
  table << line;
  LaneSet lanes;
  for (std::int64_t m : {std::int64_t(32), std::int64_t(128), std::int64_t(512)}) {
    std::vector<T> x(std::size_t(m * M), T(0.5)), w(std::size_t(M * H), T(0.25)), y(std::size_t(m * H));
    const auto gemm = [&] {
      kernels::cpu::gemm<T>(kernels::cpu::Trans::No, kernels::cpu::Trans::No, m, H, M, T(1), x.data(),
                            w.data(), T(0), y.data());
    };
    const double t_c = harness.time_op(gemm, iters, warmup);
    const double round = harness.time_op(
        [&] {
          EventPtr c = lanes.submit(Lane::Compute, gemm);
          lanes.submit(lane, a2a, {c});
          lanes.synchronize();
        },
        iters, warmup);
    const double extra = std::max(0.0, round - t_c - t_a);
    sync.samples.push_back({t_c, extra});
    std::snprintf(line, sizeof line, "  %10lld %12.2f %12.2f %12.2f\n", (long long)m, t_c * 1e3, round * 1e3,
                  extra * 1e3);
    table << line;
  }
  harness.progress(op);
  sync.fit = fit_nonnegative_line(sync.samples);
  write_fit_line(table, sync);
  fits.push_back(sync);
}

// The fused SAA pipeline as the executor runs it (run_pipeline): W pairwise steps, step i's exchange (one p2p
// step on the fused EP communicator, inter lane), then the MP AllGather of the received chunk and its
// placement (fused MP communicator, intra lane), stage 2 of step i waiting for stage 1 of step i only; fresh
// buffers per call. The model prices each stage-step from the p2p, AlltoAll and AllGather fits; what it does
// not see (lane handoffs per step, the placement copies, a gather over a group of one) is the extra time per

template <typename T>
void time_sync_overheads_in(const Config& config, comm::CommGroups& groups, const Harness& harness,
                            std::vector<Measurement>& fits, std::ostream& table) {
  // More calls than the collectives: the extra is a small difference of two medians.
  const int iters = std::max(20, harness.sweep().iters), warmup = std::max(3, harness.sweep().warmup);
  time_sync<T>(config, *groups.ep, "sync", "EP", Lane::Inter, harness, iters, warmup, fits, table);
  time_sync<T>(config, *groups.mp, "sync_mp", "MP", Lane::Intra, harness, iters, warmup, fits, table);
}

}  // namespace

void time_sync_overheads(const Config& config, comm::CommGroups& groups, const Harness& harness,
                         std::vector<Measurement>& fits, std::ostream& table) {
  if (config.layer.dtype == DType::Fp64)
    time_sync_overheads_in<double>(config, groups, harness, fits, table);
  else
    time_sync_overheads_in<float>(config, groups, harness, fits, table);
}

}  // namespace parm::calibrate
