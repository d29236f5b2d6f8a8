#include "engine/calibrate/collectives.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace parm::calibrate {
namespace {

struct CommOp {
  const char* op;
  const char* communicator;
  comm::Communicator* c;
  double bus_factor;     // busbw = algbw * factor (nccl-tests)
  const char* formula;   // shown in the header
  double bytes_divisor;  // the bytes timed per size (p2p: size / W)
};

}  // namespace

double time_collectives(const Config& config, comm::CommGroups& groups, const Harness& harness,
                        std::vector<Measurement>& fits, std::ostream& table) {
  const std::int64_t P = config.parallel.ranks;
  const int W = groups.ep->size();
  std::vector<std::int64_t> sizes;
  for (std::int64_t s : sweep_sizes(harness.sweep()))
    sizes.push_back(std::max<std::int64_t>(4 * P, s / (4 * P) * (4 * P)));  // divisible by every group
  sizes.erase(std::unique(sizes.begin(), sizes.end()), sizes.end());
  const std::int64_t largest = sizes.back();
  std::vector<char> send(std::size_t(largest), 1), recv(std::size_t(largest), 0);
  std::vector<float> fsend(std::size_t(largest / 4), 0.0f), frecv(std::size_t(largest / 4), 0.0f);

  const CommOp ops[] = {
      {"alltoall", "EP", groups.ep.get(), 0, "busbw = algbw * (n-1)/n; size = send bytes per rank", 1},
      {"allgather", "MP", groups.mp.get(), 0, "busbw = algbw * (n-1)/n; size = output bytes", 1},
      {"reducescatter", "MP", groups.mp.get(), 0, "busbw = algbw * (n-1)/n; size = input bytes", 1},
      {"allreduce", "MP", groups.mp.get(), 0, "busbw = algbw * 2(n-1)/n; size = bytes", 1},
      {"p2p", "EP", groups.ep_fused.get(), 0,
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
    for (std::int64_t size : sizes) {
      std::function<void()> call;
      std::int64_t bytes = size;
      if (name == "alltoall")
        call = [&] { op.c->all_to_all(send.data(), recv.data(), std::size_t(size / n)); };
      else if (name == "allgather")
        call = [&] { op.c->all_gather(send.data(), recv.data(), std::size_t(size / n)); };
      else if (name == "reducescatter")
        call = [&] {
          op.c->reduce_scatter(fsend.data(), frecv.data(), std::size_t(size / 4 / n), comm::DataType::F32);
        };
      else if (name == "allreduce")
        call = [&] {
          op.c->all_reduce(fsend.data(), std::size_t(size / 4), comm::DataType::F32, comm::ReduceOp::Sum);
        };
      else {
        bytes = size / W;
        const int me = op.c->rank();
        call = [&, bytes, me] {
          op.c->send_recv(send.data(), std::size_t(bytes), (me + 1) % n, recv.data(), std::size_t(bytes),
                          (me + n - 1) % n);
        };
      }
      const double ms = harness.time_op(call);
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
  // on another thread (MPI runs thread-multiple).
  if (groups.ep->size() < 2 || groups.mp->size() < 2) {
    table << "#\n# interference: not measured (needs EP and MP groups of 2 or more ranks); 1.0 assumed\n";
    return 1.0;
  }
  const std::int64_t mid = sizes[sizes.size() / 2];
  const int ne = groups.ep->size(), nm = groups.mp->size();
  std::vector<char> send2(std::size_t(mid), 2), recv2(std::size_t(mid), 0);
  const auto a2a = [&] { groups.ep->all_to_all(send.data(), recv.data(), std::size_t(mid / ne)); };
  const double alone = harness.time_op(a2a);
  const double together = harness.time_op_during(
      a2a, [&] { groups.mp->all_gather(send2.data(), recv2.data(), std::size_t(mid / nm)); });
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
