#include "engine/run/worker.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <optional>
#include <stdexcept>

#include "engine/backend/activity_capture.h"
#include "engine/backend/backend.h"
#include "engine/backend/element_type.h"
#include "engine/core/sizes.h"
#include "engine/run/executor.h"
#include "engine/run/model_worker.h"
#include "engine/run/rank_backend.h"
#include "engine/run/tensor_init.h"
#include "engine/run/verify.h"
#include "engine/schedules/chunk_plan.h"

namespace parm {
namespace {

using Clock = std::chrono::steady_clock;

// What a measured iteration hands the GPU capture (all null when not capturing).
struct GpuCapture {
  backend::ActivityCapture* capture = nullptr;  // live only
  profiler::NvtxRangeLog* nvtx = nullptr;
  profiler::GpuActivity* activity = nullptr;
};

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

template <typename T>
RankScheduleResult run_schedule(backend::Backend& backend, const Config& config, const WorkerOptions& options,
                                const RankLayout& layout, comm::CommGroups& groups, ScheduleKind kind,
                                bool die_here, std::int64_t& measured_allocations, const GpuCapture& gpu) {
  const LayerConfig& l = config.layer;
  const std::int64_t sm = l.tokens() * l.hidden;
  // This MP group's slice of the global input and output gradient (tensor_init.h layouts).
  std::vector<T> x(static_cast<std::size_t>(sm)), dout(x.size());
  const auto first = static_cast<std::uint64_t>(layout.mp_group * sm);
  fill(x.data(), sm, config.run.seed, TensorId::Input, first,
       tensor_scale(TensorId::Input, l.hidden, l.ffn_hidden));
  fill(dout.data(), sm, config.run.seed, TensorId::OutputGrad, first,
       tensor_scale(TensorId::OutputGrad, l.hidden, l.ffn_hidden));

  LayerExecutor<T> exec(backend, config, layout, groups, build_schedule(kind, config.parallel));
  if (options.gate_logits) {
    const std::vector<double> given = options.gate_logits->of_group(layout.mp_group);
    std::vector<T> logits(given.size());
    std::transform(given.begin(), given.end(), logits.begin(), backend::from_double<T>);
    exec.set_gate_logits(logits);
  }
  RankScheduleResult result;
  result.kind = kind;
  const std::int64_t total = config.run.warmup + config.run.iterations;
  std::int64_t allocations_before = 0;  // the allocator's calls when the measured iterations begin
  for (std::int64_t it = 0; it < total; ++it) {
    const bool measured = it >= config.run.warmup;
    if (it == config.run.warmup) {
      exec.reset_counters();
      allocations_before = backend.memory_stats().device_allocations;
    }
    exec.set_trace(measured ? options.tracer : nullptr, static_cast<std::int32_t>(it - config.run.warmup));
    exec.set_gpu_capture(measured ? gpu.capture : nullptr, measured ? gpu.nvtx : nullptr);
    if (gpu.capture && it == config.run.warmup) {  // the warm-up's activity is not stored; its losses are
      profiler::GpuActivity warmup;
      gpu.capture->collect(warmup);
      gpu.activity->dropped_records += warmup.dropped_records;
    }
    if (die_here && it == config.run.warmup) std::raise(SIGKILL);  // test hook: a rank dies mid-run
    groups.world->barrier();
    const auto t0 = Clock::now();
    exec.forward(x);
    const double fwd = seconds_since(t0);
    const auto t1 = Clock::now();
    exec.backward(dout);
    const double bwd = seconds_since(t1);
    if (measured) {
      result.forward_s.push_back(fwd);
      result.backward_s.push_back(bwd);
      // Outside the timed region, before the next barrier: CUPTI's flush costs no measured time.
      if (gpu.capture) gpu.capture->collect(*gpu.activity);
    }
    if (it == config.run.warmup) result.counters = exec.counters();
  }
  exec.set_gpu_capture(nullptr, nullptr);  // verification below is not a measured iteration
  // Buffers are allocated at enqueue time, so the count is complete once the last pass is enqueued.
  measured_allocations += backend.memory_stats().device_allocations - allocations_before;
  result.capacity = exec.routing().capacity;
  result.dropped_choices = exec.routing().dropped_choices();
  if (options.gate_calls) {
    std::vector<GateCall> calls = gate_calls_of(exec, kind, layout, l.tokens());
    options.gate_calls->insert(options.gate_calls->end(), calls.begin(), calls.end());
  }

  // Spec section 8: the reference check, or routing validity where the schedule legitimately routes
  // differently; a failure is reported in the result (parm run names it and exits 1), not thrown.
  if (options.verify) result.verify = verify_against_reference(config, layout, groups, exec);
  return result;
}

}  // namespace

std::size_t expected_trace_events(const Config& config, const std::vector<ScheduleKind>& schedules) {
  std::size_t per_iteration = 0;
  const DerivedSizes sizes = derive_sizes(config);
  for (ScheduleKind kind : schedules) {
    const Schedule s = build_schedule(kind, config.parallel);
    for (const Direction d : {Direction::Forward, Direction::Backward})
      per_iteration += traced_ops_per_pass(d == Direction::Forward ? s.forward : s.backward,
                                           planned_chunks(s, d, sizes), config.parallel.ep());
  }
  return per_iteration * static_cast<std::size_t>(config.run.iterations);
}

RankRunResult run_worker_rank(const Config& config, const WorkerOptions& options, const RankLayout& layout,
                              comm::CommGroups& groups) {
  if (options.verify && options.gate_logits)
    throw std::invalid_argument(
        "--verify with --gate-logits: the reference layer computes its own logits (x*Wg); run them apart");
  RankRunResult out;
  out.rank = layout.rank;
  const auto& kinds = options.schedules.empty() ? config.run.schedules : options.schedules;
  // run.backend picks the engine (backends this build lacks were refused before any rank started).
  const std::unique_ptr<backend::Backend> backend = make_rank_backend(config, layout.rank, options.timeout);
  // GPU capture: only for traced runs on a backend that has one (the cpu backend's op trace is its activity).
  std::unique_ptr<backend::ActivityCapture> capture;
  std::optional<profiler::NvtxRangeLog> nvtx_log;
  GpuCapture gpu;
  if (options.tracer && options.gpu_activity) {
    capture = backend->start_activity_capture();
    if (capture) options.gpu_activity->process_id = static_cast<std::uint32_t>(::getpid());
    if (capture && !capture->unavailable().empty()) {
      options.gpu_activity->unavailable = capture->unavailable();
    } else if (capture) {
      std::size_t ranges = expected_trace_events(config, kinds);  // + one per pipeline and iteration
      const DerivedSizes sizes = derive_sizes(config);
      for (ScheduleKind kind : kinds) {
        const Schedule s = build_schedule(kind, config.parallel);
        for (const Direction d : {Direction::Forward, Direction::Backward})
          ranges += pipeline_ranges_per_pass(d == Direction::Forward ? s.forward : s.backward,
                                             planned_chunks(s, d, sizes)) *
                    static_cast<std::size_t>(config.run.iterations);
      }
      nvtx_log.emplace(ranges);
      gpu = {capture.get(), &*nvtx_log, options.gpu_activity};
    }
  }
  for (std::size_t i = 0; i < kinds.size(); ++i) {
    const bool die_here = options.die_on_rank == layout.rank && i == 0;
    if (options.model) {
      out.schedules.push_back(run_model_schedule(*backend, config, options, layout, groups, kinds[i],
                                                 die_here, out.device.allocations));
      continue;
    }
    const auto run = [&]<typename T>(T*) {
      out.schedules.push_back(run_schedule<T>(*backend, config, options, layout, groups, kinds[i], die_here,
                                              out.device.allocations, gpu));
    };
    switch (config.layer.dtype) {
      case DType::Fp32:
        run(static_cast<float*>(nullptr));
        break;
      case DType::Fp64:
        run(static_cast<double*>(nullptr));
        break;
      case DType::Bf16:  // a backend without 16-bit compute refuses in one line (Backend::compute_bf16)
        run(static_cast<Bf16*>(nullptr));
        break;
      case DType::Fp16:
        run(static_cast<F16*>(nullptr));
        break;
    }
  }
  if (nvtx_log) nvtx_log->move_into(*options.gpu_activity);
  const backend::DeviceDescription device = backend->device();
  out.device.name = device.name;
  out.device.ordinal = device.ordinal;
  out.device.memory_bytes = device.memory_bytes;
  out.device.driver = device.driver;
  out.device.bus_location = device.bus_location;
  out.device.uuid = device.uuid;
  out.device.sm_count = device.sm_count;
  out.device.compute_major = device.compute_major;
  out.device.compute_minor = device.compute_minor;
  out.device.clock_rate_khz = device.clock_rate_khz;
  out.device.memory_bandwidth_bytes_s = device.memory_bandwidth_bytes_s;
  out.device.l2_cache_bytes = device.l2_cache_bytes;
  out.device.comm_library = device.comm_library;
  out.device.peak_bytes = backend->memory_stats().peak_bytes;
  return out;
}

}  // namespace parm
