#include "engine/model/timeline_model.h"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "engine/schedules/chunk_plan.h"
#include "engine/schedules/group_specs.h"
#include "engine/schedules/pipeline_plan.h"

namespace parm {
namespace {

double share(std::int64_t n) {
  return n > 0 ? static_cast<double>(n - 1) / static_cast<double>(n) : 0.0;
}

Collective to_collective(OpKind k) {
  switch (k) {
    case OpKind::AlltoAll:
      return Collective::AlltoAll;
    case OpKind::AllGather:
      return Collective::AllGather;
    case OpKind::ReduceScatter:
      return Collective::ReduceScatter;
    default:
      return Collective::AllReduce;  // AllReduce, Copy (backward), GradAllReduce
  }
}

struct Model {
  const Config& config;
  const DerivedSizes& d;
  const Calibration& calib;
  CommCostParams p;
  ScheduleKind kind;
  Schedule schedule;
  std::int64_t a2a_elements = 0;     // AlltoAll per-GPU send (spec section 5)
  std::int64_t expert_elements = 0;  // the tensor the experts consume on one rank
  std::int64_t capacity_elements = 0;
  bool shared_link = false;
  std::int64_t w = 1;
  std::vector<std::string> notes;

  Model(const Config& c, const DerivedSizes& sizes, const Calibration& cal, ScheduleKind k)
      : config(c),
        d(sizes),
        calib(cal),
        p(cal.comm_params()),
        kind(k),
        schedule(build_schedule(k, c.parallel)) {
    // C2 splits the capacity over the MP group before the AlltoAll: each rank sends its 1/N.
    const bool split_capacity = schedule.capacity == CapacityRule::C2 && d.N > 0;
    capacity_elements = rule_capacity(schedule.capacity, d.D0, d.D1, d.D2);
    a2a_elements = split_capacity ? d.D2 / d.N : capacity_elements;
    // The experts consume the AlltoAll's output, times the peers an AllGather along the peer dimension
    // before them gathers (N for ESP/MP gathers; B_DS and whole experts gather nothing).
    expert_elements = a2a_elements;
    for (const Op& op : schedule.forward) {
      if (op.kind == OpKind::Experts) break;
      const std::vector<Stage> steps =
          op.kind == OpKind::Pipeline ? op.stages : std::vector<Stage>{{op.kind, op.group, op.dim}};
      for (const Stage& s : steps)
        if (s.kind == OpKind::AllGather && s.dim == Dim::Peer) expert_elements *= group_size(s.group);
    }
    shared_link = d.nodes <= 1;
    w = std::max<std::int64_t>(1, d.n_ep);
  }

  std::int64_t group_size(Group g) const { return parm::group_size(g, d); }

  std::int64_t elements(OpKind k, Group g, Dim dim) const {
    if (k == OpKind::GradAllReduce) return config.layer.hidden * config.layer.num_experts;
    if (k == OpKind::AlltoAll) return a2a_elements;
    if (k == OpKind::AllReduce || k == OpKind::Copy) return expert_elements;
    if (dim == Dim::Tokens) return d.S * config.layer.hidden;
    (void)g;
    return d.N * a2a_elements;  // AllGather output / ReduceScatter input over the MP (ESP) group
  }

  std::int64_t bytes(OpKind k, Group g, Dim dim) const { return elements(k, g, dim) * d.bytes_per_element; }

  double step_ms(const Stage& s, std::int64_t b) const {
    const double part = static_cast<double>(b) / static_cast<double>(w);
    switch (s.kind) {
      case OpKind::AlltoAll:
        return p.p2p_alpha_ms + p.alltoall.beta_ms_per_byte * part;
      case OpKind::AllGather:
        return p.allgather.alpha_ms + p.allgather.beta_ms_per_byte * share(group_size(s.group)) * part;
      case OpKind::ReduceScatter:
        return p.reduce_scatter.alpha_ms +
               p.reduce_scatter.beta_ms_per_byte * share(group_size(s.group)) * part;
      default:
        throw std::logic_error("timeline model: unexpected pipeline stage");
    }
  }

  double fit_ms(const char* op, double n) {
    const CalibrationFit* f = calib.find(op);
    if (!f) {
      const std::string note = std::string("no '") + op + "' fit: " + op + " time 0";
      if (std::find(notes.begin(), notes.end(), note) == notes.end()) notes.push_back(note);
      return 0.0;
    }
    return std::max(0.0, f->fit.alpha + f->fit.beta * n);
  }

  // A hierarchical (2DH) AlltoAll of `bytes` per rank: the AlltoAll fits of its two sub-groups, each over
  // the whole send buffer (what `parm calibrate` measures on EP-intra and EP-inter).
  double hierarchical_alltoall_ms(std::int64_t bytes) const {
    double t = 0;
    for (const char* group : {"EP-intra", "EP-inter"}) {
      const CalibrationFit* f = calib.find("alltoall", group);
      if (!f)
        throw std::runtime_error("calibration " + calib.id + " has no 'alltoall' fit on " + group +
                                 ": a hierarchical (2DH) AlltoAll is priced on its sub-groups (run parm "
                                 "calibrate on this layout)");
      t += std::max(0.0, f->fit.alpha + f->fit.beta * static_cast<double>(bytes));
    }
    return t;
  }

  // Local data movement (the "copy" fit: a fresh buffer and a copy, n = bytes); 0 without the fit.
  double copy_ms(double bytes) { return calib.find("copy") ? fit_ms("copy", bytes) : 0.0; }

  // What a collective op does besides moving data between ranks, as the executor runs it: the output buffer
  // is fresh; capacity-dimension AllGather interleaves the gathered pieces and ReduceScatter groups them
  // first (one more pass over the data each). The lists hold no collective over a group of one.
  double local_movement_ms(const Op& op, std::int64_t n, std::int64_t bytes) {
    const double b = static_cast<double>(bytes);
    const bool capacity = op.dim == Dim::Capacity;
    switch (op.kind) {
      case OpKind::AllGather:  // bytes = output
        return copy_ms(b) * (capacity ? 2.0 : 1.0);
      case OpKind::ReduceScatter:  // bytes = input
        return copy_ms(b / static_cast<double>(n)) + (capacity ? copy_ms(b) : 0.0);
      case OpKind::AlltoAll:  // 2DH: two exchanges' fresh outputs and the two block transposes
        return copy_ms(b) * (op.algorithm == AlltoAllAlgorithm::Hierarchical ? 4.0 : 1.0);
      default:
        return 0.0;  // AllReduce in place
    }
  }

  // A backward at another chunk count than its forward first regroups the experts' saved activations (the
  // packed input and the 2 or 3 projections of every row: LayerExecutor::regroup_expert_states): one copy
  // pass over them.
  double regroup_ms() {
    if (planned_chunks(schedule, Direction::Forward, d) == planned_chunks(schedule, Direction::Backward, d))
      return 0.0;
    const double M = static_cast<double>(config.layer.hidden);
    const double rows = static_cast<double>(expert_elements) / M;
    const double saved = config.layer.activation == Activation::Swiglu ? 3.0 : 2.0;
    return copy_ms(rows * (M + saved * static_cast<double>(d.h_shard)) *
                   static_cast<double>(d.bytes_per_element));
  }

  double gate_tokens() const {
    return static_cast<double>(schedule.split_tokens && d.N > 0 ? d.S / d.N : d.S);
  }

  // `fraction`: the share of the capacity the op runs on (1/chunks inside a chunked region).
  double compute_ms(const Op& op, double fraction = 1.0) {
    const bool bwd = op.direction == Direction::Backward;
    const double M = static_cast<double>(config.layer.hidden);
    switch (op.kind) {
      // The calibration's units (parm calibrate): gate n = T*M, order and combine n = T*k*M, T the tokens
      // this rank gates (S, or S/N when S1 splits them).
      case OpKind::Gate:
        return fit_ms("gate", gate_tokens() * M);
      case OpKind::Order:
        return fit_ms("order", gate_tokens() * static_cast<double>(config.layer.top_k) * M);
      case OpKind::Combine:
        return fit_ms("combine", gate_tokens() * static_cast<double>(config.layer.top_k) * M);
      case OpKind::Experts: {
        const double e_loc = static_cast<double>(std::max<std::int64_t>(1, d.local_experts));
        const double rows = static_cast<double>(expert_elements) / M / e_loc * fraction;
        const double gemms = config.layer.activation == Activation::Swiglu ? 3.0 : 2.0;
        const double macs = rows * M * static_cast<double>(d.h_shard);
        // The experts op as calibrated (FFN with bias, activation and packing; per expert call), else the
        // bare GEMM fit of older calibrations (backward = 2 x forward).
        const char* op_fit = bwd ? "experts_bwd" : "experts";
        if (calib.find(op_fit)) return e_loc * fit_ms(op_fit, macs * gemms);
        return (bwd ? 2.0 : 1.0) * e_loc * gemms * fit_ms("gemm", macs);
      }
      default:
        return 0.0;  // Split, forward Copy: no work
    }
  }
};

std::string group_name(Group g) {
  return std::string(to_string(g));
}

std::string stage_name(OpKind k) {
  return std::string(to_collective(k) == Collective::AlltoAll ? "AlltoAll" : to_string(to_collective(k)));
}

using Lanes = std::array<double, kLaneCount>;

// The lane a plain op runs on (collectives on their group's; a forward Copy moves nothing but is shown
// there).
Lane lane_for(const Op& op) {
  return op.communicates() || op.kind == OpKind::Copy ? lane_of(op.group) : Lane::Compute;
}

struct PipelineSpan {
  double raw = 0;   // without the overlap cost
  double span = 0;  // with it (what is laid out)
};

// One fused pipeline from `ready`, on lanes that are free at `lanes` (updated), its bytes times `fraction`
// (a capacity chunk's share); records its stage-steps (chunk: the step, or chunk * W + step inside capacity
// chunk `chunk`).
PipelineSpan simulate_pipeline(Model& m, const Op& op, std::size_t i, int phase, double fraction, int chunk,
                               double ready_at, Lanes& lanes, TimelinePrediction& out) {
  const double factor = std::max(1.0, m.calib.interference);
  const std::size_t ns = op.stages.size();
  std::vector<std::int64_t> b(ns);
  std::vector<double> dur(ns);
  for (std::size_t s = 0; s < ns; ++s) {
    b[s] = static_cast<std::int64_t>(
        static_cast<double>(m.bytes(op.stages[s].kind, op.stages[s].group, op.stages[s].dim)) * fraction);
    dur[s] = m.step_ms(op.stages[s], b[s]);
  }
  // What the alpha-beta steps miss (lane handoffs per step, placing the chunks, and the slowdown of
  // traffic overlapping on both lanes): the "pipeline" fit, per stage-step, against the bytes one
  // exchange step moves. It was measured on the overlapped pipeline itself, so it replaces the
  // interference factor there (applying both would count the overlap twice).
  const CalibrationFit* pipeline_fit = m.calib.find("pipeline");
  double extra = 0;
  if (pipeline_fit) {
    const double step_bytes = static_cast<double>(m.bytes(OpKind::AlltoAll, Group::EP, Dim::Capacity)) *
                              fraction / static_cast<double>(m.w);
    // The measured curve, not the line: the extra is ~0 while a step fits the transport's buffers and
    // then jumps, which no alpha + beta * n follows (older files without samples: the line).
    extra = pipeline_fit->samples.size() >= 2
                ? std::max(0.0, interpolate_samples(pipeline_fit->samples, step_bytes))
                : std::max(0.0, pipeline_fit->fit.alpha + pipeline_fit->fit.beta * step_bytes);
  }
  // The executor's own issue order (pipeline_plan.h) on FIFO lanes: each stage-step starts once stage
  // s-1 of the same step has ended and its lane has finished what was issued to it before (one op at a
  // time per lane), so stages on different lanes overlap across steps while the two intra-node stages of
  // S2F's RS>A2A>AG take turns on the intra lane. On one node intra and inter traffic share one link:
  // every step runs serially, in issue order.
  const std::vector<PipelineStep> order = pipeline_issue_order(m.w, ns);
  auto simulate = [&](double f, double e, bool record, Lanes& lane_free) {
    std::vector<double> ended(static_cast<std::size_t>(m.w) * ns, ready_at);  // [step * ns + stage]
    double serial = std::max({ready_at, lane_free[1], lane_free[2]}), last = ready_at;
    const std::size_t first = out.intervals.size();
    for (const PipelineStep& ps : order) {
      const std::size_t s = ps.stage;
      const std::size_t at = static_cast<std::size_t>(ps.step) * ns + s;
      const Lane lane = pipeline_stage_lane(op, s);
      double& free = lane_free[static_cast<std::size_t>(lane)];
      const double ready = s > 0 ? ended[at - 1] : ready_at;
      const double start = m.shared_link ? std::max(serial, ready) : std::max(ready, free);
      const double end = start + dur[s] * f + e;  // f is 1 on a shared link
      free = end;
      serial = end;
      if (m.shared_link) lane_free[1] = lane_free[2] = end;
      ended[at] = end;
      last = std::max(last, end);
      if (record) {
        PredictedInterval iv;
        iv.phase = phase;
        iv.op = i;
        iv.name = op.name() + "/" + stage_name(op.stages[s].kind);
        iv.group = group_name(op.stages[s].group);
        iv.purpose = op.label;
        iv.lane = lane;
        iv.chunk = static_cast<int>(chunk < 0 ? ps.step : chunk * m.w + ps.step);
        iv.bytes = b[s] / m.w;
        iv.start_ms = start;
        iv.end_ms = end;
        out.intervals.push_back(iv);
      }
    }
    // The intervals list is in start order; each lane's steps keep their issue order (FIFO lanes).
    std::stable_sort(out.intervals.begin() + static_cast<std::ptrdiff_t>(first), out.intervals.end(),
                     [](const auto& x, const auto& y) { return x.start_ms < y.start_ms; });
    return last - ready_at;
  };
  Lanes scratch = lanes;
  PipelineSpan span;
  span.raw = simulate(1.0, 0.0, false, scratch);
  const bool overlaps = !m.shared_link && ns > 1 && m.w > 1;
  span.span =
      pipeline_fit ? simulate(1.0, extra, true, lanes) : simulate(overlaps ? factor : 1.0, 0.0, true, lanes);
  return span;
}

// One pass being laid out: the running totals and the per-op pricing both the plain list and a chunked
// region use.
struct PassLayout {
  Model& m;
  int phase;
  TimelinePrediction& out;
  double comm_raw = 0, compute = 0, interference = 0, synced = 0;
  // Synchronisation (the "sync" fit for EP collectives, "sync_mp" for MP/ESP ones, when present): before
  // each collective of a group of 2+ a rank waits for the slowest peer, beta x the compute since the last
  // collective (ranks drift apart while computing); part of the collective's interval, as the trace measures
  // it. The fits' fixed part (alpha) is not charged: measured over TCP it is mostly the micro-benchmark's own
  // progress jitter, and charging it per collective over-predicted small layers 2-5x (BENCHMARKS.md).
  double segment = 0;  // compute since the last collective

  double sync_ms(Group g) {
    const CalibrationFit* f = m.calib.find(std::string(group_spec(g).sync_fit));
    const double t = f ? std::max(0.0, f->fit.beta) * segment : 0.0;
    synced += t;
    segment = 0;
    return t;
  }

  std::string suffix() const { return phase == 1 ? " bwd" : ""; }

  // A plain op (not a pipeline) on `fraction` of the capacity, starting at `start`; records its interval.
  PredictedInterval plain_op(const Op& op, std::size_t i, double fraction, int chunk, double start,
                             double extra = 0) {
    PredictedInterval iv;
    iv.phase = phase;
    iv.op = i;
    iv.name = op.name();
    iv.group = group_name(op.group);
    iv.purpose = op.label;
    iv.lane = lane_for(op);
    iv.chunk = chunk;
    iv.start_ms = start;
    double t = 0;
    if (op.communicates()) {
      iv.bytes =
          static_cast<std::int64_t>(static_cast<double>(m.bytes(op.kind, op.group, op.dim)) * fraction);
      const std::int64_t n = m.group_size(op.group);  // 2 or more: build_schedule drops groups of one
      t = op.kind == OpKind::AlltoAll && op.algorithm == AlltoAllAlgorithm::Hierarchical
              ? m.hierarchical_alltoall_ms(iv.bytes)
              : collective_ms(m.p, to_collective(op.kind), n, iv.bytes);
      comm_raw += t;
      t += m.local_movement_ms(op, n, iv.bytes);
      t += sync_ms(op.group);
    } else if (op.kind == OpKind::Split) {
      const std::int64_t n = m.group_size(op.group);
      t = m.copy_ms(static_cast<double>(m.bytes(OpKind::AllGather, op.group, op.dim) / n) * fraction);
      compute += t;
      segment += t;
    } else if (op.kind == OpKind::ChunkSplit || op.kind == OpKind::ChunkMerge) {
      // One pass over the dispatched tensor (this rank's side: E x C x M).
      t = m.copy_ms(static_cast<double>(m.capacity_elements * m.d.bytes_per_element));
      if (op.kind == OpKind::ChunkSplit && phase == 1) t += m.regroup_ms();
      compute += t;
      segment += t;
    } else if (op.kind != OpKind::Copy) {
      t = m.compute_ms(op, fraction);
      if (op.kind == OpKind::Experts && phase == 1 && chunk < 0) t += m.regroup_ms();
      compute += t;
      segment += t;
    }
    t += extra;
    iv.end_ms = start + t;
    out.intervals.push_back(iv);
    if (t > 0)
      out.terms.push_back(
          {iv.lane == Lane::Compute ? op.name() : op.name() + " " + op.label + suffix(), t, false});
    return iv;
  }

  // A chunked region (chunk_plan.h) from its ChunkSplit at `split`: the split, each chunk's ops in the
  // executor's wavefront order on FIFO lanes (an op starts when the same chunk's previous op has ended and
  // its lane is free; on one node intra and inter traffic share the link), the merge once every chunk is
  // done. Collectives cost alpha + beta * n / chunks, the experts their fit on rows / chunks. Returns the
  // merge's index and advances `cursor`.
  std::size_t chunks(const std::vector<Op>& list, std::size_t split, double& cursor) {
    const ChunkRegion region = chunk_region(list);
    const Direction direction = phase == 0 ? Direction::Forward : Direction::Backward;
    const int n = planned_chunks(m.schedule, direction, m.d);
    const double fraction = 1.0 / static_cast<double>(n);
    // What the per-call prices miss when a layer runs in chunks (the "chunk" fit of `parm calibrate`: ms per
    // chunked call r adds, against r): spread over the region's n calls per op, so r = 1 stays unchanged.
    const CalibrationFit* chunk_fit = m.calib.find("chunk");
    const double extra =
        chunk_fit && n > 1
            ? std::max(0.0, chunk_fit->samples.size() >= 2 ? interpolate_samples(chunk_fit->samples, n)
                                                           : chunk_fit->fit.alpha + chunk_fit->fit.beta * n) *
                  static_cast<double>(n - 1) / static_cast<double>(n)
            : 0.0;
    const PredictedInterval cut = plain_op(list[split], split, 1.0, -1, cursor);
    Lanes lanes{cut.end_ms, cut.end_ms, cut.end_ms};
    std::vector<double> ended(static_cast<std::size_t>(n), cut.end_ms);
    const std::size_t first_interval = out.intervals.size();
    for (const PipelineStep& ps : pipeline_issue_order(n, region.size())) {
      const std::size_t index = region.first + ps.stage;
      const Op& op = list[index];
      double& ready = ended[static_cast<std::size_t>(ps.step)];
      const int chunk = static_cast<int>(ps.step);
      if (op.kind == OpKind::Pipeline) {
        const double start = ready + sync_ms(op.stages.front().group);
        const PipelineSpan span = simulate_pipeline(m, op, index, phase, fraction, chunk, start, lanes, out);
        comm_raw += span.raw;
        interference += span.span - span.raw;
        out.terms.push_back({op.name() + " " + op.label + suffix(), span.span, true});
        ready = start + span.span + extra;
        continue;
      }
      const Lane lane = lane_for(op);
      const bool link = m.shared_link && lane != Lane::Compute;
      const double free = link ? std::max(lanes[1], lanes[2]) : lanes[static_cast<std::size_t>(lane)];
      const PredictedInterval iv = plain_op(op, index, fraction, chunk, std::max(ready, free), extra);
      lanes[static_cast<std::size_t>(iv.lane)] = iv.end_ms;
      if (link) lanes[1] = lanes[2] = iv.end_ms;
      ready = iv.end_ms;
    }
    std::stable_sort(out.intervals.begin() + static_cast<std::ptrdiff_t>(first_interval), out.intervals.end(),
                     [](const auto& x, const auto& y) { return x.start_ms < y.start_ms; });
    const double done = std::max(*std::max_element(ended.begin(), ended.end()), lanes[0]);
    cursor = plain_op(list[region.last], region.last, 1.0, -1, done).end_ms;
    return region.last;
  }
};

// Lays out one pass; returns its duration and adds the raw (interference-free) communication time.
double lay_out(Model& m, const std::vector<Op>& list, int phase, TimelinePrediction& out, double& comm_raw,
               double& compute, double& interference, double& synced) {
  PassLayout pass{m, phase, out};
  double cursor = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Op& op = list[i];
    if (op.kind == OpKind::ChunkSplit) {
      i = pass.chunks(list, i, cursor);
      continue;
    }
    if (op.kind == OpKind::Pipeline) {
      cursor += pass.sync_ms(op.stages.front().group);  // the first step waits for the slowest peer
      Lanes lanes{cursor, cursor, cursor};
      const PipelineSpan span = simulate_pipeline(m, op, i, phase, 1.0, -1, cursor, lanes, out);
      pass.comm_raw += span.raw;
      pass.interference +=
          span.span - span.raw;  // the measured overlap cost (the fit's extra, or the factor's)
      out.terms.push_back({op.name() + " " + op.label + pass.suffix(), span.span, true});
      cursor += span.span;
      continue;
    }
    cursor = pass.plain_op(op, i, 1.0, -1, cursor).end_ms;
  }
  comm_raw += pass.comm_raw;
  compute += pass.compute;
  interference += pass.interference;
  synced += pass.synced;
  return cursor;
}

}  // namespace

std::string TimelinePrediction::dominant() const {
  const auto it =
      std::max_element(terms.begin(), terms.end(), [](const auto& a, const auto& b) { return a.ms < b.ms; });
  return it == terms.end() ? std::string() : it->what;
}

TimelinePrediction predict_timeline(const Config& config, const DerivedSizes& sizes, const Calibration& calib,
                                    ScheduleKind kind) {
  Model m(config, sizes, calib, kind);
  TimelinePrediction out;
  out.kind = kind;
  double comm = 0, compute = 0, interference = 0, synced = 0;
  out.forward_ms = lay_out(m, m.schedule.forward, 0, out, comm, compute, interference, synced);
  (void)comm;  // the lane-accurate sum; the reported quantity is the paper's (TC-3..TC-5)
  out.forward_comm_ms = predict_forward_comm(config, sizes, m.p, kind).forward_comm_ms;
  out.forward_compute_ms = compute;
  double bcomm = 0, bcompute = 0;
  const double fwd_end = out.forward_ms;
  const std::size_t first_bwd = out.intervals.size();
  out.backward_ms = lay_out(m, m.schedule.backward, 1, out, bcomm, bcompute, interference, synced);
  for (std::size_t i = first_bwd; i < out.intervals.size(); ++i) {  // backward follows the forward
    out.intervals[i].start_ms += fwd_end;
    out.intervals[i].end_ms += fwd_end;
  }
  out.layer_ms = out.forward_ms + out.backward_ms;
  out.compute_ms = compute + bcompute;
  out.interference_ms = interference;
  out.sync_ms = synced;
  out.notes = m.notes;
  if (calib.find("pipeline"))
    out.notes.push_back("overlap of fused pipelines from the measured 'pipeline' fit (interference factor " +
                        std::to_string(calib.interference) + " not applied to them)");
  else if (calib.interference > 1.0)
    out.notes.push_back("interference factor " + std::to_string(calib.interference) +
                        " applied to pipeline steps that overlap traffic on the other lane");
  return out;
}

ScheduleKind select_by_time(const std::vector<std::pair<ScheduleKind, double>>& times) {
  std::vector<SchedulePrediction> preds;
  preds.reserve(times.size());
  for (const auto& [k, ms] : times) {
    SchedulePrediction p;
    p.kind = k;
    p.forward_comm_ms = ms;
    preds.push_back(p);
  }
  return select_schedule(preds);
}

}  // namespace parm
