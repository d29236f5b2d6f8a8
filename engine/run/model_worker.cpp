#include "engine/run/model_worker.h"

#include <csignal>
#include <stdexcept>

#include "engine/run/model_executor.h"

namespace parm {
namespace {

template <typename T>
RankScheduleResult run_steps(backend::Backend& backend, const Config& config, const WorkerOptions& options,
                             const RankLayout& layout, comm::CommGroups& groups, ScheduleKind kind,
                             bool die_here, std::int64_t& measured_allocations) {
  const std::vector<ScheduleKind> kinds(static_cast<std::size_t>(config.model->moe_blocks()), kind);
  ModelExecutor<T> exec(backend, config, layout, groups, kinds);
  RankScheduleResult result;
  result.kind = kind;
  const std::int64_t total = config.run.warmup + config.run.iterations;
  std::int64_t allocations_before = 0;
  for (std::int64_t it = 0; it < total; ++it) {
    const bool measured = it >= config.run.warmup;
    if (it == config.run.warmup) allocations_before = backend.memory_stats().device_allocations;
    exec.set_trace(measured ? options.tracer : nullptr, static_cast<std::int32_t>(it - config.run.warmup),
                   std::string(to_string(kind)));
    if (die_here && it == config.run.warmup) std::raise(SIGKILL);  // test hook: a rank dies mid-run
    groups.world->barrier();
    const ModelStepTimes t = exec.step();
    if (!measured) continue;
    result.forward_s.push_back(t.forward / 1e3);
    result.backward_s.push_back((t.backward + t.exposed_sync) / 1e3);
    result.exposed_sync_s.push_back(t.exposed_sync / 1e3);
    result.sync_s.push_back(t.sync / 1e3);
  }
  exec.set_trace(nullptr, 0, {});
  measured_allocations += backend.memory_stats().device_allocations - allocations_before;
  result.loss = exec.loss();
  if (exec.moe_layers() > 0) {
    const backend::HostRouting& routing = exec.moe_layer(0).routing();
    result.capacity = routing.capacity;
    result.dropped_choices = routing.dropped_choices();
  }
  return result;
}

}  // namespace

RankScheduleResult run_model_schedule(backend::Backend& backend, const Config& config,
                                      const WorkerOptions& options, const RankLayout& layout,
                                      comm::CommGroups& groups, ScheduleKind kind, bool die_here,
                                      std::int64_t& measured_allocations) {
  if (!config.model) throw std::invalid_argument("--model: the configuration has no 'model' section");
  switch (config.layer.dtype) {
    case DType::Fp32:
      return run_steps<float>(backend, config, options, layout, groups, kind, die_here, measured_allocations);
    case DType::Fp64:
      return run_steps<double>(backend, config, options, layout, groups, kind, die_here,
                               measured_allocations);
    default:
      throw std::invalid_argument("--model: layer.dtype = " + std::string(to_string(config.layer.dtype)) +
                                  ": a whole model runs in fp32 or fp64");
  }
}

std::size_t expected_model_trace_events(const Config& config, const std::vector<ScheduleKind>& schedules) {
  const std::size_t layers = static_cast<std::size_t>(config.model->layers);
  // Per step: up to 16 compute sections and collectives per block, the embedding's and head's, one bucket
  // per stage, the MoE blocks' syncs, plus each MoE layer's own ops.
  std::size_t per_step = 16 * layers + 32 + 2 * static_cast<std::size_t>(config.model->moe_blocks());
  std::size_t per_layer_run = expected_trace_events(config, schedules);  // every schedule's layer ops
  return (per_step * schedules.size() * static_cast<std::size_t>(config.run.iterations)) +
         per_layer_run * static_cast<std::size_t>(config.model->moe_blocks());
}

}  // namespace parm
