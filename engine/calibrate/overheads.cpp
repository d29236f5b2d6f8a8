#include "engine/calibrate/overheads.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "engine/backend/buffer.h"

namespace parm::calibrate {
namespace {

// The cost of synchronising after compute, as the executor pays it inside a layer: a GEMM on the compute
// lane, then a small AlltoAll on the communicator's lane that waits for it, then the next GEMM waits for the
// AlltoAll (the backend's streams, ordered by an event as the executor orders them). Per round the extra time
// over GEMM + AlltoAll alone is the lane handoffs (and, over TCP, the slower progress of a collective driven
// from a lane thread) plus the wait for the slowest peer, which grows with the compute every rank did since
// the last collective (ranks drift apart while computing). Fitted per communicator as extra_ms = alpha + beta
// * compute_ms: "sync" (EP, inter lane) and "sync_mp" (MP, intra lane); the model charges it once per
// collective of that group.
template <typename T>
void time_sync(const Config& config, backend::Backend& backend, backend::StreamCommunicator& comm,
               const char* op, const char* communicator, Lane lane, const Harness& harness, int iters,
               int warmup, std::vector<Measurement>& fits, std::ostream& table) {
  if (comm.size() < 2) {
    table << "#\n# " << op << ": not measured (a " << communicator
          << " group of one rank never synchronises)\n";
    return;
  }
  const std::int64_t M = std::max<std::int64_t>(config.layer.hidden, 64);
  const std::int64_t H = std::max<std::int64_t>(config.layer.ffn_hidden, 64);
  const int W = comm.size();
  const std::size_t chunk = 1024;  // bytes per peer: latency-bound, so the extra time is synchronisation
  backend::Allocator& memory = backend.allocator();
  backend::Compute<T>& compute = backend.compute<T>();
  backend::Stream &compute_stream = backend.stream(Lane::Compute), &comm_stream = backend.stream(lane);
  const std::vector<char> ones(chunk * std::size_t(W), 1);
  backend::Buffer<char> send(memory, ones.size()), recv(memory, ones.size());
  memory.copy_from_host(send.data(), ones.data(), ones.size());
  const auto a2a = [&] {
    comm.all_to_all(comm_stream, send.data(), recv.data(), chunk / sizeof(float), comm::DataType::F32);
  };
  const double t_a = harness.time_enqueued(backend, comm_stream, a2a, iters, warmup);
  Measurement sync = measurement(op, communicator, W);
  char line[320];
  std::snprintf(line, sizeof line,
                "#\n# %s (%s, %d ranks): GEMM on the compute lane -> AlltoAll of %zu B per peer on the %s "
                "lane -> next GEMM, as in a layer; n = GEMM ms, extra = round - GEMM - AlltoAll (%.2f us)\n"
                "# %10s %12s %12s %12s\n",
                op, communicator, W, chunk, lane == Lane::Inter ? "inter" : "intra", t_a * 1e3, "rows",
                "gemm(us)", "round(us)", "extra(us)");
  table << line;
  const auto gemm_done = backend.make_event();
  for (std::int64_t m : {std::int64_t(32), std::int64_t(128), std::int64_t(512)}) {
    const auto filled = [&](std::int64_t count, T value) {
      backend::Buffer<T> b(memory, std::size_t(count));
      const std::vector<T> host(b.size(), value);
      memory.copy_from_host(b.data(), host.data(), host.size() * sizeof(T));
      return b;
    };
    const backend::Buffer<T> x = filled(m * M, T(0.5)), w = filled(M * H, T(0.25));
    const backend::Buffer<T> y(memory, std::size_t(m * H));
    const auto gemm = [&] { compute.gemm(compute_stream, x.view(), w.view(), m, H, M, y.view()); };
    const double t_c = harness.time_enqueued(backend, compute_stream, gemm, iters, warmup);
    // The executor's handoff: the collective's stream waits for the compute stream's event.
    const double round = harness.time_enqueued(
        backend, compute_stream, comm_stream,
        [&] {
          gemm();
          compute_stream.record(*gemm_done);
          comm_stream.wait(*gemm_done);
          a2a();
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

template <typename T>
void time_sync_overheads_in(const Config& config, backend::Backend& backend,
                            const backend::StreamGroups& groups, const Harness& harness,
                            std::vector<Measurement>& fits, std::ostream& table) {
  // More calls than the collectives: the extra is a small difference of two medians.
  const int iters = std::max(20, harness.sweep().iters), warmup = std::max(3, harness.sweep().warmup);
  time_sync<T>(config, backend, groups[comm::GroupKind::EP], "sync", "EP", Lane::Inter, harness, iters,
               warmup, fits, table);
  time_sync<T>(config, backend, groups[comm::GroupKind::MP], "sync_mp", "MP", Lane::Intra, harness, iters,
               warmup, fits, table);
}

}  // namespace

void time_sync_overheads(const Config& config, backend::Backend& backend, const backend::StreamGroups& groups,
                         const Harness& harness, std::vector<Measurement>& fits, std::ostream& table) {
  if (config.layer.dtype == DType::Fp64)
    time_sync_overheads_in<double>(config, backend, groups, harness, fits, table);
  else
    time_sync_overheads_in<float>(config, backend, groups, harness, fits, table);
}

}  // namespace parm::calibrate
