#include "engine/calibrate/pipeline.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <utility>

#include "engine/run/executor.h"
#include "engine/schedules/schedule_ir.h"

namespace parm::calibrate {
namespace {

// One fused SAA pipeline, the dispatch of S1F and S2F: W pairwise AlltoAll steps on the fused EP
// communicator (inter lane), each followed by the AllGather of the received chunk and its peer-major
// placement (fused MP communicator, intra lane). Over an MP group of one the AllGather is not executed
// (spec section 6), as in the schedules: the pipeline is the AlltoAll steps alone.
Schedule saa_pipeline_only(const ParallelConfig& parallel) {
  Schedule s;
  s.fused = true;
  s.forward = without_groups_of_one(
      {ops::pipeline({{OpKind::AlltoAll, Group::EP, Dim::None}, {OpKind::AllGather, Group::ESP, Dim::Peer}},
                     "dispatch")},
      parallel);
  return s;
}

// The executor's own pipeline code is what is timed: a LayerExecutor on the rank's backend running a one-op
// schedule, by host clocks around forward() (which waits for its streams). Its input
// is a token tensor of width 1, so one EP peer's chunk is exactly `blk` elements (a pipeline only moves
// contiguous chunks: the shape of an element does not change its work) and the layer's weights, built by
// the executor, stay tiny. The executor's forward also copies its input in; that copy is timed on its own
// (a forward with no ops) and taken off.
template <typename T>
void time_pipeline_in(const Config& config, const RankLayout& layout, backend::Backend& backend,
                      comm::CommGroups& groups, const Harness& harness, std::vector<Measurement>& fits,
                      std::ostream& table) {
  const std::int64_t W = groups.ep_fused->size(), N = groups.mp_fused->size();
  if (W < 2) {
    table << "#\n# pipeline: not measured (an EP group of one rank has no pipeline)\n";
    return;
  }
  const LinearFit* p2p = fitted_line(fits, "p2p");
  const LinearFit* a2a = fitted_line(fits, "alltoall");
  const LinearFit* ag = fitted_line(fits, "allgather");
  if (!p2p || !a2a) {
    table << "#\n# pipeline: not measured (needs the p2p and alltoall fits)\n";
    return;
  }
  Config width_one = config;
  width_one.layer.hidden = 1;
  Schedule saa = saa_pipeline_only(config.parallel);
  const bool gathers = saa.forward.front().stages.size() == 2;  // W >= 2: the AlltoAll steps are there
  LayerExecutor<T> pipeline(backend, width_one, layout, groups, std::move(saa));
  LayerExecutor<T> copy_in(backend, width_one, layout, groups, Schedule{});
  // One node: the model runs every step serially (intra and inter share the link); else as a wavefront.
  const bool serial = config.parallel.nodes() <= 1;
  Measurement pipe = measurement("pipeline", "EP", int(W));
  char line[256];
  std::snprintf(
      line, sizeof line,
      "#\n# pipeline (SAA over %lld steps, MP %lld): n = bytes per step, extra = (measured - model) / "
      "stage-steps on the critical path\n# %12s %12s %12s %12s\n",
      (long long)W, (long long)N, "step(B)", "model(us)", "measured(us)", "extra(us)");
  table << line;
  for (std::int64_t size : sweep_sizes(harness.sweep())) {
    const std::int64_t blk = std::max<std::int64_t>(1, size / W / std::int64_t(sizeof(T)));
    const std::int64_t step_bytes = blk * std::int64_t(sizeof(T));
    const std::vector<T> input(std::size_t(W * blk), T(1));
    const double whole = harness.time_op([&] { pipeline.forward(input); });
    const double copying = harness.time_op([&] { copy_in.forward(input); });
    const double measured = std::max(0.0, whole - copying);
    const double b = double(step_bytes);
    const double t_a = p2p->alpha + a2a->beta * b;
    const double t_g = gathers && ag ? ag->alpha + ag->beta * double(N - 1) / double(N) * double(N) * b : 0.0;
    const double model = serial ? double(W) * (t_a + t_g) : t_a + double(W - 1) * std::max(t_a, t_g) + t_g;
    const double stages = gathers ? 2.0 : 1.0;  // the AllGather steps exist only over a group of 2+
    const double stage_steps = serial ? stages * double(W) : double(W) + stages - 1.0;
    const double extra = std::max(0.0, measured - model) / stage_steps;
    pipe.samples.push_back({b, extra});
    std::snprintf(line, sizeof line, "  %12lld %12.2f %12.2f %12.2f\n", (long long)step_bytes, model * 1e3,
                  measured * 1e3, extra * 1e3);
    table << line;
  }
  harness.progress("pipeline");
  // Relative (1/t^2) weights as for the collectives: step sizes span decades and the largest, whose fresh
  // buffers fault in, would otherwise set beta for the small steps layers make. A zero extra is floored.
  for (FitSample& f : pipe.samples) f.t = std::max(f.t, 1e-6);
  // The model reads the samples themselves (interpolate_samples); the line is what the table reports. A
  // weighted fit that fell back to the mean (a zero extra at a small size and a large one at the largest)
  // would report the largest step's extra as every step's: the unweighted line is nearer.
  pipe.fit = fit_measured(pipe.samples);
  if (!pipe.fit.fitted || pipe.fit.constant) pipe.fit = fit_nonnegative_line(pipe.samples);
  write_fit_line(table, pipe);
  fits.push_back(pipe);
}

}  // namespace

void time_pipeline(const Config& config, const RankLayout& layout, backend::Backend& backend,
                   comm::CommGroups& groups, const Harness& harness, std::vector<Measurement>& fits,
                   std::ostream& table) {
  if (config.layer.dtype == DType::Fp64)
    time_pipeline_in<double>(config, layout, backend, groups, harness, fits, table);
  else
    time_pipeline_in<float>(config, layout, backend, groups, harness, fits, table);
}

}  // namespace parm::calibrate
