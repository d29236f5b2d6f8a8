#include "engine/calibrate/collectives.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>

#include "engine/backend/buffer.h"
#include "engine/calibrate/collective_check.h"
#include "engine/model/bus_bandwidth.h"
#include "engine/schedules/alltoall_algorithm.h"

namespace parm::calibrate {
namespace {

using comm::GroupKind;

// One swept (collective, communicator). The first communicator of each op is the one the cost model reads
// (Calibration::find takes the first fit of an op; it has a label); the others are the layout's further
// communicators the executor runs that collective on, which are separate communicators (their own NCCL
// channels), measured by a full sweep and left out of a quick one (which the tests and the demo run).
struct CommOp {
  const char* op;
  CheckedCollective kind;
  GroupKind group;
  const char* label;  // the fit's communicator; nullptr: the communicator's own name (a further one)
  Lane lane;          // the executor's stream for this group: intra for MP/ESP, inter for EP
};

constexpr CommOp kOps[] = {
    {"alltoall", CheckedCollective::AlltoAll, GroupKind::EP, "EP", Lane::Inter},
    {"alltoall", CheckedCollective::AlltoAll, GroupKind::EPFused, nullptr, Lane::Inter},
    // The hierarchical (2DH) AlltoAll's two exchanges, which the cost model prices on their own fits.
    {"alltoall", CheckedCollective::AlltoAll, GroupKind::EPIntra, "EP-intra", Lane::Inter},
    {"alltoall", CheckedCollective::AlltoAll, GroupKind::EPInter, "EP-inter", Lane::Inter},
    {"allgather", CheckedCollective::AllGather, GroupKind::MP, "MP", Lane::Intra},
    {"allgather", CheckedCollective::AllGather, GroupKind::ESP, nullptr, Lane::Intra},
    {"allgather", CheckedCollective::AllGather, GroupKind::MPFused, nullptr, Lane::Intra},
    {"allgather", CheckedCollective::AllGather, GroupKind::ESPFused, nullptr, Lane::Intra},
    {"reducescatter", CheckedCollective::ReduceScatter, GroupKind::MP, "MP", Lane::Intra},
    {"reducescatter", CheckedCollective::ReduceScatter, GroupKind::ESP, nullptr, Lane::Intra},
    {"reducescatter", CheckedCollective::ReduceScatter, GroupKind::MPFused, nullptr, Lane::Intra},
    {"reducescatter", CheckedCollective::ReduceScatter, GroupKind::ESPFused, nullptr, Lane::Intra},
    {"allreduce", CheckedCollective::AllReduce, GroupKind::MP, "MP", Lane::Intra},
    {"allreduce", CheckedCollective::AllReduce, GroupKind::ESP, nullptr, Lane::Intra},
    // A whole model's data-parallel gradient sync (issue 18): AllReduce over the EP group, on the inter lane.
    {"allreduce", CheckedCollective::AllReduce, GroupKind::EP, "EP", Lane::Inter},
    // One pairwise step of a fused pipeline, on the fused EP communicator; recorded as "EP" (the model's).
    {"p2p", CheckedCollective::SendRecv, GroupKind::EPFused, "EP", Lane::Inter},
};

// The collective's nccl-tests bus bandwidth rule (engine/model/bus_bandwidth.h, shared with the GUI).
BusCollective bus_kind(const CommOp& op) {
  return *bus_collective_of(op.op);  // every op of kOps is a collective
}

// The per-call count in StreamCommunicator's convention for `bytes` in the size column.
std::size_t count_for(CheckedCollective kind, int n, std::int64_t bytes) {
  const std::size_t floats = std::size_t(bytes / 4);
  switch (kind) {
    case CheckedCollective::AllReduce:
    case CheckedCollective::SendRecv:
      return floats;
    default:
      return floats / std::size_t(n);
  }
}

void enqueue(const CommOp& op, backend::StreamCommunicator& c, backend::Stream& stream, void* send,
             void* recv, std::size_t count) {
  constexpr auto F32 = comm::DataType::F32;
  const int n = c.size(), me = c.rank();
  switch (op.kind) {
    case CheckedCollective::AlltoAll:
      return c.all_to_all(stream, send, recv, count, F32);
    case CheckedCollective::AllGather:
      return c.all_gather(stream, send, recv, count, F32);
    case CheckedCollective::ReduceScatter:
      return c.reduce_scatter(stream, send, recv, count, F32);
    case CheckedCollective::AllReduce:
      return c.all_reduce(stream, send, count, F32, comm::ReduceOp::Sum);
    case CheckedCollective::SendRecv:
      return c.send_recv(stream, send, count, (me + 1) % n, recv, count, (me + n - 1) % n, F32);
  }
}

// The check buffers (apart from the timed ones, which hold zeros so no timed call computes on growing or
// non-finite values): the pattern in, NaN in the output, one call, the output compared on the host.
struct CheckBuffers {
  backend::Buffer<float> send, recv;
};

std::int64_t wrong_elements(const CommOp& op, backend::Backend& backend, backend::StreamCommunicator& c,
                            backend::Stream& stream, CheckBuffers& b, std::size_t count) {
  backend::Allocator& memory = backend.allocator();
  const int n = c.size(), me = c.rank();
  const std::vector<float> in = pattern_buffer(me, input_elements(op.kind, n, count));
  const std::size_t out_len = output_elements(op.kind, n, count);
  const std::vector<float> nan(out_len, std::numeric_limits<float>::quiet_NaN());
  memory.copy_from_host(b.send.data(), in.data(), in.size() * sizeof(float));
  const bool in_place = op.kind == CheckedCollective::AllReduce;
  float* out = in_place ? b.send.data() : b.recv.data();
  if (!in_place) memory.copy_from_host(out, nan.data(), out_len * sizeof(float));
  enqueue(op, c, stream, b.send.data(), b.recv.data(), count);
  backend.synchronize();
  std::vector<float> got(out_len);
  memory.copy_to_host(got.data(), out, out_len * sizeof(float));
  return count_wrong(op.kind, n, me, count, got.data());
}

}  // namespace

double time_collectives(const Config& config, backend::Backend& backend, const backend::StreamGroups& groups,
                        const Harness& harness, std::vector<Measurement>& fits, std::ostream& table) {
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
  CheckBuffers check{backend::Buffer<float>(backend.allocator(), zeros.size()),
                     backend::Buffer<float>(backend.allocator(), zeros.size())};

  char line[1024];
  if (harness.sweep().quick)
    table << "#\n# quick: the communicators the cost model reads only (a full sweep adds EP#fused, ESP, "
             "MP#fused "
             "and ESP#fused)\n";
  const bool two_dh = hierarchical_alltoall_applies(config.parallel);
  for (const CommOp& op : kOps) {
    if (harness.sweep().quick && !op.label) continue;
    if (!two_dh && (op.group == GroupKind::EPIntra || op.group == GroupKind::EPInter)) {
      std::snprintf(
          line, sizeof line,
          "#\n# %s on %s: not measured: the hierarchical AlltoAll is the flat one on this layout (it "
          "needs 2+ EP ranks per node on 2+ nodes)\n",
          op.op, op.label);
      table << line;
      continue;
    }
    backend::StreamCommunicator& c = groups[op.group];
    const int n = c.size();
    const std::string name = op.op, communicator = op.label ? op.label : c.name();
    const std::string where = name + " on " + communicator;
    std::snprintf(line, sizeof line, "#\n# %s on %s (%d rank%s): %s\n", op.op, communicator.c_str(), n,
                  n == 1 ? "" : "s", bus_bandwidth_formula(bus_kind(op)));
    table << line;
    if (n == 1) {
      table
          << "# group of 1: nothing to communicate, not measured and not fitted (the cost model treats it as "
             "free)\n";
      harness.progress(where + ": group of 1, skipped");
      continue;
    }
    std::snprintf(line, sizeof line,
                  "# %12s %12s %6s %12s %10s %10s %7s\n# %12s %12s %6s %12s %10s %10s %7s\n", "size", "count",
                  "type", "time", "algbw", "busbw", "#wrong", "(B)", "(elements)", "", "(us)", "(GB/s)",
                  "(GB/s)", "");
    table << line;
    Measurement meas = measurement(name, communicator, n);
    backend::Stream& stream = backend.stream(op.lane);
    const double factor = bus_bandwidth_factor(bus_kind(op), n);
    for (std::int64_t size : sizes) {
      const std::int64_t bytes = op.kind == CheckedCollective::SendRecv ? size / W : size;
      const std::size_t count = count_for(op.kind, n, bytes);
      const double ms = harness.time_enqueued(
          backend, stream, [&] { enqueue(op, c, stream, send.data(), recv.data(), count); });
      // The most wrong elements on one rank (every rank checks its own output).
      const auto wrong =
          std::int64_t(harness.max(double(wrong_elements(op, backend, c, stream, check, count))));
      meas.samples.push_back({double(bytes), ms});
      const double algbw = double(bytes) / (ms * 1e-3) / 1e9;
      std::snprintf(line, sizeof line, "  %12lld %12lld %6s %12.2f %10.3f %10.3f %7lld\n", (long long)bytes,
                    (long long)(bytes / 4), "float", ms * 1e3, algbw, algbw * factor, (long long)wrong);
      table << line;
      harness.progress(where + " " + std::to_string(bytes) + " B: " + std::to_string(ms * 1e3) + " us" +
                       (wrong ? ", " + std::to_string(wrong) + " wrong" : std::string()));
      // A broken interconnect must not be stored as if its times were fine (every rank throws alike).
      if (wrong)
        throw std::runtime_error("calibration: " + where + " of " + std::to_string(bytes) + " B: " +
                                 std::to_string(wrong) + " wrong elements in the data check (#wrong)");
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
  constexpr auto F32 = comm::DataType::F32;
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
