#include "engine/calibrate/chunks.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "engine/calibrate/calibration_run.h"
#include "engine/calibrate/report.h"
#include "engine/comm/comm_mpi.h"
#include "engine/core/sizes.h"
#include "engine/model/timeline_model.h"
#include "engine/run/executor.h"
#include "engine/run/tensor_init.h"
#include "engine/schedules/chunk_plan.h"
#include "engine/schedules/schedule_registry.h"

namespace parm::calibrate {
namespace {

template <typename T>
void time_chunks_in(const Config& config, const RankLayout& layout, backend::Backend& backend,
                    const Harness& harness, const CalibrationOptions& options, double interference,
                    std::vector<Measurement>& fits, std::ostream& table) {
  const ScheduleKind base = ScheduleKind::S2;  // C2 capacity: no token-split precondition on the layout
  Calibration so_far;
  try {
    so_far = make_calibration(config, options, interference, fits);
  } catch (const std::exception& e) {
    table << "#\n# chunk: not measured (" << e.what() << ")\n";
    return;
  }
  const DerivedSizes sizes = derive_sizes(config);
  comm::CommGroups transport = comm::make_mpi_groups(layout, std::chrono::milliseconds(options.timeout_ms));
  const std::int64_t sm = config.layer.tokens() * config.layer.hidden;
  std::vector<T> x(static_cast<std::size_t>(sm)), dout(x.size());
  fill(x.data(), sm, config.run.seed, TensorId::Input, static_cast<std::uint64_t>(layout.mp_group * sm), 1.0);
  fill(dout.data(), sm, config.run.seed, TensorId::OutputGrad,
       static_cast<std::uint64_t>(layout.mp_group * sm), 1.0);
  Measurement chunk = measurement("chunk", "EP", static_cast<int>(sizes.n_ep));
  table << "#\n# chunk (" << to_string(base)
        << " at pipeline degree r): extra = ((measured(r) - measured(1)) - (model(r) - model(1))) / chunked "
           "calls "
           "added\n";
  char line[256];
  std::snprintf(line, sizeof line, "# %4s %8s %12s %12s %12s\n", "r", "chunks", "model(ms)", "measured(ms)",
                "extra(us)");
  table << line;
  double measured_one = 0, model_one = 0;
  for (int r : kPipelineDegrees) {
    const ScheduleSpec* variant = pipelined_variant(base, r);
    const Schedule schedule = build_schedule(variant->kind, config.parallel);
    double model = 0;
    try {
      model = predict_timeline(config, sizes, so_far, variant->kind).layer_ms;
    } catch (const std::exception& e) {
      table << "# chunk: not measured (" << e.what() << ")\n";
      return;
    }
    LayerExecutor<T> exec(backend, config, layout, transport, schedule);
    const double measured = harness.time_op([&] {
      exec.forward(x);
      exec.backward(dout);
    });
    const int chunks = std::min(planned_chunks(schedule, Direction::Forward, sizes),
                                planned_chunks(schedule, Direction::Backward, sizes));
    if (r == 1) {
      measured_one = measured;
      model_one = model;
    }
    const double calls =
        static_cast<double>(chunks - 1) *
        static_cast<double>(chunk_region(schedule.forward).size() + chunk_region(schedule.backward).size());
    const double extra = calls > 0 ? ((measured - measured_one) - (model - model_one)) / calls : 0.0;
    std::snprintf(line, sizeof line, "  %4d %8d %12.3f %12.3f %12.2f\n", r, chunks, model, measured,
                  extra * 1e3);
    table << line;
    // Per chunk count run (a small capacity runs fewer chunks than r: one sample per count).
    if (calls > 0 && (chunk.samples.empty() || chunk.samples.back().n != chunks))
      chunk.samples.push_back({static_cast<double>(chunks), std::max(0.0, extra)});
  }
  harness.progress("chunk");
  if (chunk.samples.empty()) {
    table << "# chunk: not measured (the capacity has no room for a second chunk)\n";
    return;
  }
  // A negative residual (the model already overcharging the chunks) is floored at 0, as the pipeline fit's:
  // the fit only ever adds to the chunked calls.
  chunk.fit = fit_nonnegative_line(chunk.samples);
  write_fit_line(table, chunk);
  fits.push_back(chunk);
}

}  // namespace

void time_chunks(const Config& config, const RankLayout& layout, backend::Backend& backend,
                 const Harness& harness, const CalibrationOptions& options, double interference,
                 std::vector<Measurement>& fits, std::ostream& table) {
  if (config.layer.dtype == DType::Fp64)
    time_chunks_in<double>(config, layout, backend, harness, options, interference, fits, table);
  else if (config.layer.dtype == DType::Fp32)
    time_chunks_in<float>(config, layout, backend, harness, options, interference, fits, table);
  else
    table << "#\n# chunk: not measured (16-bit layers: measured on fp32 only)\n";
}

}  // namespace parm::calibrate
