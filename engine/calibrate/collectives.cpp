#include "engine/calibrate/collectives.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include "engine/backend/buffer.h"

namespace parm::calibrate {
namespace {

struct CommOp {
  const char* op;
  const char* communicator;
  backend::StreamCommunicator* c;
  Lane lane;             // the executor's stream for this group: intra for MP/ESP, inter for EP
  double bus_factor;     // busbw = algbw * factor (nccl-tests)
  const char* formula;   // shown in the header
  double bytes_divisor;  // the bytes timed per size (p2p: size / W)
};

}  // namespace

double time_collectives(const Config& config, backend::Backend& backend, const backend::StreamGroups& groups,
                        const Harness& harness, std::vector<Measurement>& fits, std::ostream& table) {
  using comm::GroupKind;
  const std::int64_t P = config.parallel.ranks;
  backend::StreamCommunicator& ep = groups[GroupKind::EP];
  backend::StreamCommunicator& mp = groups[GroupKind::MP];
  const int W = ep.size();
  std::vector<std::int64_t> sizes;
  for (std::int64_t s : sweep_sizes(harness.sweep()))
    sizes.push_back(std::max<std::int64_t>(4 * P, s / (4 * P) * (4 * P)));  // divisible by every group
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  const std::int64_t largest = sizes.back();
  // On the device, as the executor's tensors; sizes are multiples of 4P, so every block is whole floats.
  const std::vector<float> zeros(std::size_t(largest / 4), 0.0f);
  backend::Buffer<float> send(backend.allocator(), zeros.size()), recv(backend.allocator(), zeros.size());
  backend.allocator().copy_from_host(send.data(), zeros.data(), zeros.size() * sizeof(float));
  backend.allocator().copy_from_host(recv.data(), zeros.data(), zeros.size() * sizeof(float));
  constexpr auto F32 = comm::DataType::F32;

  const CommOp ops[] = {
      {"alltoall", "EP", &ep, Lane::Inter, 0, "busbw = algbw * (n-1)/n; size = send bytes per rank", 1},
      {"allgather", "MP", &mp, Lane::Intra, 0, "busbw = algbw * (n-1)/n; size = output bytes", 1},
      {"reducescatter", "MP", &mp, Lane::Intra, 0, "busbw = algbw * (n-1)/n; size = input bytes", 1},
      {"allreduce", "MP", &mp, Lane::Intra, 0, "busbw = algbw * 2(n-1)/n; size = bytes", 1},
      {"p2p", "EP", &groups[GroupKind::EPFused], Lane::Inter, 0,
       "one pairwise step (send to q+1, receive from q-1); bytes = size/W", double(W)},
  };
  char line[1024];
  for (const CommOp& op : ops) {
    const int n = op.c->size();
    const std::string name = op.op;
    const double share = double(n - 1) / double(n);
    const double factor = name == "allreduce" ? 2 * share : name == "p2p" ? 1.0 : share;
    std::snprintf(line, sizeof line, "#\n# %s on %s (%d rank%s): %s\n", op.op, op.communicator, n,
                  n == 1 ? "" : "s", op.formula);
    table << line;
    if (n == 1) {
      table
          << "# group of 1: nothing to communicate, not measured and not fitted (the cost model treats it as "
             "free)\n";
      harness.progress(name + " on " + op.communicator + ": group of 1, skipped");
      continue;
    }
    std::snprintf(line, sizeof line, "# %12s %12s %6s %12s %10s %10s\n# %12s %12s %6s %12s %10s %10s\n",
                  "size", "count", "type", "time", "algbw", "busbw", "(B)", "(elements)", "", "(us)",
                  "(GB/s)", "(GB/s)");
    table << line;
    Measurement meas = measurement(name, op.communicator, n);
    backend::Stream& stream = backend.stream(op.lane);
    for (std::int64_t size : sizes) {
      std::function<void()> call;
      std::int64_t bytes = size;
      const auto per = [&](std::int64_t b) { return std::size_t(b / 4 / n); };  // floats per rank
      if (name == "alltoall")
        call = [&] { op.c->all_to_all(stream, send.data(), recv.data(), per(size), F32); };
      else if (name == "allgather")
        call = [&] { op.c->all_gather(stream, send.data(), recv.data(), per(size), F32); };
      else if (name == "reducescatter")
        call = [&] { op.c->reduce_scatter(stream, send.data(), recv.data(), per(size), F32); };
      else if (name == "allreduce")
        call = [&] {
          op.c->all_reduce(stream, send.data(), std::size_t(size / 4), F32, comm::ReduceOp::Sum);
        };
      else {
        bytes = size / W;
        const int me = op.c->rank();
        const std::size_t count = std::size_t(bytes / 4);
        call = [&, count, me] {
          op.c->send_recv(stream, send.data(), count, (me + 1) % n, recv.data(), count, (me + n - 1) % n,
                          F32);
        };
      }
      const double ms = harness.time_enqueued(backend, stream, call);
      meas.samples.push_back({double(bytes), ms});
      const double algbw = double(bytes) / (ms * 1e-3) / 1e9;
      std::snprintf(line, sizeof line, "  %12lld %12lld %6s %12.2f %10.3f %10.3f\n", (long long)bytes,
                    (long long)(bytes / 4), "float", ms * 1e3, algbw, algbw * factor);
      table << line;
      harness.progress(name + " on " + op.communicator + " " + std::to_string(bytes) +
                       " B: " + std::to_string(ms * 1e3) + " us");
    }
    meas.fit = fit_measured(meas.samples);
    write_fit_line(table, meas);
    fits.push_back(meas);
  }

  // Interference: the EP AlltoAll of the middle size alone, then while an MP AllGather of the same size runs
  // on the intra stream beside it (the cpu backend's lane threads; MPI runs thread-multiple).
  if (ep.size() < 2 || mp.size() < 2) {
    table << "#\n# interference: not measured (needs EP and MP groups of 2 or more ranks); 1.0 assumed\n";
    return 1.0;
  }
  const std::int64_t mid = sizes[sizes.size() / 2];
  const int ne = ep.size(), nm = mp.size();
  backend::Buffer<float> send2(backend.allocator(), std::size_t(mid / 4)),
      recv2(backend.allocator(), send2.size());
  backend.allocator().copy_from_host(send2.data(), zeros.data(), send2.size() * sizeof(float));
  backend::Stream &inter = backend.stream(Lane::Inter), &intra = backend.stream(Lane::Intra);
  const auto a2a = [&] { ep.all_to_all(inter, send.data(), recv.data(), std::size_t(mid / 4 / ne), F32); };
  const double alone = harness.time_enqueued(backend, inter, a2a);
  const double together = harness.time_enqueued_during(backend, inter, a2a, [&] {
    mp.all_gather(intra, send2.data(), recv2.data(), std::size_t(mid / 4 / nm), F32);
  });
  const double ratio = alone > 0 ? together / alone : 1.0;
  std::snprintf(
      line, sizeof line,
      "#\n# interference: AlltoAll(EP) of %lld B alone %.2f us, with a concurrent AllGather(MP) %.2f us:"
      " factor %.3f%s\n",
      (long long)mid, alone * 1e3, together * 1e3, ratio, ratio < 1 ? " (stored as 1.0)" : "");
  table << line;
  harness.progress("interference factor " + std::to_string(ratio));
  return std::max(1.0, ratio);
}

}  // namespace parm::calibrate
