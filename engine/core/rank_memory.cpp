#include "engine/core/rank_memory.h"

#include <unistd.h>

#include <algorithm>

#include "engine/core/checked_math.h"
#include "engine/schedules/schedule_registry.h"
#include "engine/schedules/volumes.h"

namespace parm {
namespace {

std::optional<std::int64_t> bytes(std::optional<std::int64_t> elements, std::int64_t b) {
  return elements ? checked_mul(*elements, b) : std::nullopt;
}

// One schedule's peak; the per-schedule part is its largest collective buffer (AllGather output,
// ReduceScatter input, AlltoAll send), the dispatched tensor at its widest on this rank.
std::optional<RankMemory> schedule_memory(const Config& c, const DerivedSizes& d, ScheduleKind s) {
  const LayerConfig& l = c.layer;
  const std::int64_t b = d.bytes_per_element;
  const bool swiglu = l.activation == Activation::Swiglu;
  std::int64_t widest = 0;
  for (const CollectiveVolume& v : schedule_volumes(c, d, s)) widest = std::max(widest, v.elements);
  widest = std::max({widest, d.D0, d.D2});  // the sender side holds E*C*M before any collective

  RankMemory m;
  m.peak_schedule = s;
  const auto activations =
      CheckedSum()
          .add_product({4, d.S, l.hidden})       // x, dout, output, input gradient
          .add_product({2, d.S, l.num_experts})  // router probabilities and their gradient
          .total();
  const auto dispatched = checked_mul(3, widest);  // collective input, its output, the experts' saved input
  const auto hidden = checked_product({swiglu ? 3 : 2, widest / l.hidden, d.h_shard});
  const auto weights = CheckedSum()
                           .add_product({l.hidden, l.num_experts})
                           .add_product({swiglu ? 3 : 2, d.local_experts, l.hidden, d.h_shard})
                           .add_product({l.bias ? (swiglu ? 2 : 1) : 0, d.local_experts, d.h_shard})
                           .add_product({l.bias ? 1 : 0, d.local_experts, l.hidden})
                           .total();
  const auto pipeline = spec_of(s).fused ? checked_mul(2, widest) : std::optional<std::int64_t>(0);
  const auto parts = {bytes(activations, b), bytes(dispatched, b), bytes(hidden, b), bytes(weights, b),
                      bytes(pipeline, b)};
  for (const auto& p : parts)
    if (!p) return std::nullopt;
  m.activations = *bytes(activations, b);
  m.dispatched = *bytes(dispatched, b);
  m.expert_hidden = *bytes(hidden, b);
  m.weights = *bytes(weights, b);
  m.gradients = m.weights;
  m.pipeline = *bytes(pipeline, b);
  m.widest = *bytes(widest, b);  // a third of `dispatched`, so it fits too
  const auto total = CheckedSum()
                         .add(m.activations)
                         .add(m.dispatched)
                         .add(m.expert_hidden)
                         .add(m.weights)
                         .add(m.gradients)
                         .add(m.pipeline)
                         .total();
  if (!total) return std::nullopt;
  m.total = *total;
  return m;
}

}  // namespace

std::optional<RankMemory> estimate_rank_memory(const Config& config, const DerivedSizes& sizes) {
  std::optional<RankMemory> peak;
  for (ScheduleKind s : config.run.schedules) {
    const auto m = schedule_memory(config, sizes, s);
    if (!m) return std::nullopt;
    if (!peak || m->total > peak->total) peak = m;
  }
  return peak ? peak : RankMemory{};  // no schedule: nothing allocated
}

std::optional<DeviceRankMemory> estimate_device_memory(const Config& config, const DerivedSizes& sizes,
                                                       const RankMemory& buffers) {
  const LayerConfig& l = config.layer;
  DeviceRankMemory m;
  m.buffers = buffers.total;
  const auto saved =
      CheckedSum().add_product({2, sizes.S, l.num_experts, 4}).add_product({3, sizes.S, l.top_k, 4}).total();
  const auto pass = checked_mul(2, buffers.widest);
  const auto staging = config.run.backend == Backend::CudaMpi ? checked_mul(4, buffers.widest)
                                                              : std::optional<std::int64_t>(0);
  if (!saved || !pass || !staging) return std::nullopt;
  m.saved_for_backward = *saved;
  m.pass_buffers = *pass;
  m.cublas_workspace = kCublasWorkspaceBytes;
  m.context = kCudaContextBytes;
  m.host_staging = *staging;
  const auto total = CheckedSum()
                         .add(m.buffers)
                         .add(m.saved_for_backward)
                         .add(m.pass_buffers)
                         .add(m.cublas_workspace)
                         .add(m.context)
                         .total();
  if (!total) return std::nullopt;
  m.total = *total;
  return m;
}

std::int64_t ranks_per_device(Backend backend, const DeviceLimit& device) {
  if (backend != Backend::CudaMpi) return 1;
  const std::int64_t devices = std::max(1, device.devices);
  const std::int64_t ranks = std::max<std::int64_t>(1, device.ranks_on_host);
  return (ranks + devices - 1) / devices;
}

std::int64_t device_share(Backend backend, const DeviceLimit& device) {
  return device.memory_bytes / ranks_per_device(backend, device);
}

MachineLimits MachineLimits::this_machine() {
  MachineLimits m;
  const long pages = ::sysconf(_SC_PHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) m.host_memory_bytes = checked_mul(pages, page).value_or(INT64_MAX);
  return m;
}

}  // namespace parm
