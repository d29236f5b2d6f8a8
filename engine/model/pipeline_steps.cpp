#include "engine/model/pipeline_steps.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <tuple>

namespace parm {
namespace {

struct Timed {
  std::int64_t start = 0;
  std::int64_t end = 0;
  bool seen = false;
};

// (pipeline, rank, iteration) -> stage * W + step.
using Cells = std::map<std::tuple<std::size_t, int, int>, std::vector<Timed>>;

double ms(std::int64_t ns) {
  return 1e-6 * static_cast<double>(ns);
}

// The stage of `op` ("SAA:AlltoAll" or "SAA/AlltoAll") in pipeline `p`, if it names one.
std::optional<std::size_t> stage_in(const PipelineOp& p, std::string_view op) {
  if (op.size() <= p.name.size() || op.substr(0, p.name.size()) != p.name) return std::nullopt;
  const char sep = op[p.name.size()];
  if (sep != ':' && sep != '/') return std::nullopt;
  const std::string_view stage = op.substr(p.name.size() + 1);
  for (std::size_t s = 0; s < p.stages.size(); ++s)
    if (p.stages[s] == stage) return s;
  return std::nullopt;
}

// Puts every sample of `schedule` that is a stage-step of one of `pipes` into its cell. A sample without a
// step is the k-th of its (rank, iteration, phase, name, purpose, stage) in start order: occurrence k / W,
// step k % W; one with a step is the k-th of that step: occurrence k.
Cells assign(const std::vector<PipelineOp>& pipes, std::int64_t W, std::span<const StepSample> samples,
             const std::string& schedule, bool symmetric) {
  struct Hit {
    std::int64_t start, end;
    std::size_t order;
  };
  // (rank, iteration, phase, name, purpose, stage, chunk) -> hits
  std::map<std::tuple<int, int, int, std::string, std::string, std::size_t, int>, std::vector<Hit>> groups;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const StepSample& x = samples[i];
    if (x.schedule != schedule || x.iteration < 0) continue;
    for (const PipelineOp& p : pipes) {
      if (p.phase != x.phase || p.purpose != x.purpose) continue;
      const std::optional<std::size_t> s = stage_in(p, x.op);
      if (!s) continue;
      const int rank = symmetric ? 0 : x.rank, iteration = symmetric ? 0 : x.iteration;
      groups[{rank, iteration, x.phase, p.name, p.purpose, *s, x.chunk < 0 ? -1 : x.chunk}].push_back(
          {x.start_ns, x.end_ns, i});
      break;
    }
  }
  Cells cells;
  const std::size_t cell_size = [&] {
    std::size_t most = 0;
    for (const PipelineOp& p : pipes) most = std::max(most, p.stages.size());
    return most * static_cast<std::size_t>(W);
  }();
  for (auto& [key, hits] : groups) {
    const auto& [rank, iteration, phase, name, purpose, stage, chunk] = key;
    std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
      return std::tie(a.start, a.end, a.order) < std::tie(b.start, b.end, b.order);
    });
    for (std::size_t k = 0; k < hits.size(); ++k) {
      const std::size_t occurrence = chunk < 0 ? k / static_cast<std::size_t>(W) : k;
      const std::int64_t step = chunk < 0 ? static_cast<std::int64_t>(k) % W : chunk;
      if (step < 0 || step >= W) continue;
      for (std::size_t pi = 0; pi < pipes.size(); ++pi) {
        const PipelineOp& p = pipes[pi];
        if (p.phase != phase || p.name != name || p.purpose != purpose || p.occurrence != occurrence)
          continue;
        std::vector<Timed>& cell = cells[{pi, rank, iteration}];
        cell.resize(cell_size);
        cell[stage * static_cast<std::size_t>(W) + static_cast<std::size_t>(step)] = {hits[k].start,
                                                                                      hits[k].end, true};
        break;
      }
    }
  }
  return cells;
}

bool complete(const PipelineOp& p, std::int64_t W, const std::vector<Timed>& cell) {
  for (std::size_t i = 0; i < p.stages.size() * static_cast<std::size_t>(W); ++i)
    if (!cell[i].seen) return false;
  return true;
}

// The first lane whose steps, by start or by end, are not in issue order, as text; "" when every lane is.
std::string disorder(const PipelineOp& p, std::int64_t W, const std::vector<Timed>& cell) {
  for (const Lane lane : {Lane::Compute, Lane::Intra, Lane::Inter}) {
    const std::vector<PipelineStep> expected = lane_issue_order(p, W, lane);
    if (expected.empty()) continue;
    const auto at = [&](const PipelineStep& x) {
      return cell[x.stage * static_cast<std::size_t>(W) + static_cast<std::size_t>(x.step)];
    };
    for (const bool by_end : {false, true}) {
      std::vector<std::size_t> idx(expected.size());
      for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
      std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) {
        const Timed &x = at(expected[a]), &y = at(expected[b]);
        return by_end ? std::tie(x.end, x.start) < std::tie(y.end, y.start)
                      : std::tie(x.start, x.end) < std::tie(y.start, y.end);
      });
      std::vector<PipelineStep> got;
      for (std::size_t i : idx) got.push_back(expected[i]);
      bool same = true;
      for (std::size_t i = 0; i < idx.size(); ++i) same = same && idx[i] == i;
      if (!same)
        return std::string(to_string(lane)) + " lane " + (by_end ? "ended " : "started ") +
               order_text(p, got) + "; issue order " + order_text(p, expected);
    }
  }
  return "";
}

// Position of each of `keys` when sorted by `less`, stable on issue position.
template <typename Less>
std::vector<int> positions(std::size_t n, Less less) {
  std::vector<std::size_t> idx(n);
  for (std::size_t i = 0; i < n; ++i) idx[i] = i;
  std::stable_sort(idx.begin(), idx.end(), less);
  std::vector<int> pos(n);
  for (std::size_t i = 0; i < n; ++i) pos[idx[i]] = static_cast<int>(i);
  return pos;
}

}  // namespace

std::vector<PipelineOp> pipelines_of(const Schedule& schedule) {
  std::vector<PipelineOp> out;
  const std::vector<Op>* lists[2] = {&schedule.forward, &schedule.backward};
  for (int phase = 0; phase < 2; ++phase) {
    std::map<std::pair<std::string, std::string>, std::size_t> seen;
    for (std::size_t i = 0; i < lists[phase]->size(); ++i) {
      const Op& op = (*lists[phase])[i];
      if (op.kind != OpKind::Pipeline) continue;
      PipelineOp p;
      p.phase = phase;
      p.index = i;
      p.name = op.name();
      p.purpose = op.label;
      p.occurrence = seen[{p.name, p.purpose}]++;
      for (std::size_t s = 0; s < op.stages.size(); ++s) {
        p.stages.emplace_back(to_string(op.stages[s].kind));
        p.lanes.push_back(pipeline_stage_lane(op, s));
      }
      out.push_back(std::move(p));
    }
  }
  return out;
}

std::vector<PipelineStep> lane_issue_order(const PipelineOp& pipeline, std::int64_t steps, Lane lane) {
  std::vector<PipelineStep> out;
  for (const PipelineStep& x : pipeline_issue_order(steps, pipeline.stages.size()))
    if (pipeline.lanes[x.stage] == lane) out.push_back(x);
  return out;
}

std::string order_text(const PipelineOp& pipeline, const std::vector<PipelineStep>& order) {
  std::string out;
  for (const PipelineStep& x : order) {
    if (!out.empty()) out += ", ";
    out += pipeline.stages[x.stage] + " " + std::to_string(x.step);
  }
  return out;
}

StepTimeline step_timeline(const Schedule& schedule, std::int64_t steps, std::span<const StepSample> measured,
                           std::span<const StepSample> predicted) {
  StepTimeline out;
  out.schedule = std::string(to_string(schedule.kind));
  out.steps = steps;
  out.pipelines = pipelines_of(schedule);
  if (steps <= 0 || out.pipelines.empty()) return out;
  const std::int64_t W = steps;
  const Cells meas = assign(out.pipelines, W, measured, out.schedule, false);
  const Cells pred = assign(out.pipelines, W, predicted, out.schedule, true);

  std::set<int> ranks;
  for (const auto& [key, cell] : meas) ranks.insert(std::get<1>(key));
  if (ranks.empty()) ranks.insert(0);  // a prediction alone is still shown

  std::map<int, double> rank_span;
  for (std::size_t pi = 0; pi < out.pipelines.size(); ++pi) {
    const PipelineOp& p = out.pipelines[pi];
    const std::vector<PipelineStep> issue = pipeline_issue_order(W, p.stages.size());
    // The prediction, shared by every rank.
    std::vector<double> pred_start(issue.size()), pred_end(issue.size());
    bool have_pred = false;
    PipelineCheck shared;
    if (const auto it = pred.find({pi, 0, 0}); it != pred.end() && complete(p, W, it->second)) {
      have_pred = true;
      std::int64_t origin = it->second.front().start, last = it->second.front().end;
      for (const PipelineStep& x : issue) {
        const Timed& t = it->second[x.stage * static_cast<std::size_t>(W) + static_cast<std::size_t>(x.step)];
        origin = std::min(origin, t.start);
        last = std::max(last, t.end);
      }
      for (std::size_t k = 0; k < issue.size(); ++k) {
        const Timed& t = it->second[issue[k].stage * static_cast<std::size_t>(W) +
                                    static_cast<std::size_t>(issue[k].step)];
        pred_start[k] = ms(t.start - origin);
        pred_end[k] = ms(t.end - origin);
      }
      shared.predicted_span_ms = ms(last - origin);
      shared.predicted_disorder = disorder(p, W, it->second);
      shared.predicted_in_order = shared.predicted_disorder.empty();
    }

    for (const int rank : ranks) {
      PipelineCheck check = shared;
      check.pipeline = pi;
      check.rank = rank;
      std::vector<std::vector<double>> starts(issue.size()), ends(issue.size());
      std::vector<double> spans;
      for (auto it = meas.lower_bound({pi, rank, 0});
           it != meas.end() && std::get<0>(it->first) == pi && std::get<1>(it->first) == rank; ++it) {
        if (!complete(p, W, it->second)) continue;
        ++check.iterations;
        const std::string why = disorder(p, W, it->second);
        if (why.empty())
          ++check.iterations_in_order;
        else if (check.first_disorder.empty())
          check.first_disorder = "rank " + std::to_string(rank) + " iteration " +
                                 std::to_string(std::get<2>(it->first)) + ": " + why;
        std::int64_t origin = it->second.front().start, last = it->second.front().end;
        for (const PipelineStep& x : issue) {
          const Timed& t =
              it->second[x.stage * static_cast<std::size_t>(W) + static_cast<std::size_t>(x.step)];
          origin = std::min(origin, t.start);
          last = std::max(last, t.end);
        }
        spans.push_back(ms(last - origin));
        for (std::size_t k = 0; k < issue.size(); ++k) {
          const Timed& t = it->second[issue[k].stage * static_cast<std::size_t>(W) +
                                      static_cast<std::size_t>(issue[k].step)];
          starts[k].push_back(ms(t.start - origin));
          ends[k].push_back(ms(t.end - origin));
        }
      }
      check.measured_span_ms = spread_of(spans);
      rank_span[rank] += check.measured_span_ms.p50;

      std::vector<StepRow> rows(issue.size());
      for (std::size_t k = 0; k < issue.size(); ++k) {
        StepRow& r = rows[k];
        r.pipeline = pi;
        r.rank = rank;
        r.stage = issue[k].stage;
        r.step = issue[k].step;
        r.lane = p.lanes[r.stage];
        r.measured_start_ms = spread_of(starts[k]);
        r.measured_end_ms = spread_of(ends[k]);
        if (have_pred) {
          r.predicted_start_ms = pred_start[k];
          r.predicted_end_ms = pred_end[k];
        }
      }
      // Positions on each lane: issue order, median measured start, predicted start (ties: issue order).
      for (const Lane lane : {Lane::Compute, Lane::Intra, Lane::Inter}) {
        std::vector<std::size_t> on;
        for (std::size_t k = 0; k < rows.size(); ++k)
          if (rows[k].lane == lane) on.push_back(k);
        for (std::size_t j = 0; j < on.size(); ++j) rows[on[j]].issue_position = static_cast<int>(j);
        if (check.iterations > 0) {
          const std::vector<int> pos = positions(on.size(), [&](std::size_t a, std::size_t b) {
            const StepRow &x = rows[on[a]], &y = rows[on[b]];
            return std::tie(x.measured_start_ms.p50, x.measured_end_ms.p50) <
                   std::tie(y.measured_start_ms.p50, y.measured_end_ms.p50);
          });
          for (std::size_t j = 0; j < on.size(); ++j) rows[on[j]].measured_position = pos[j];
        }
        if (have_pred) {
          const std::vector<int> pos = positions(on.size(), [&](std::size_t a, std::size_t b) {
            const StepRow &x = rows[on[a]], &y = rows[on[b]];
            return std::tie(*x.predicted_start_ms, *x.predicted_end_ms) <
                   std::tie(*y.predicted_start_ms, *y.predicted_end_ms);
          });
          for (std::size_t j = 0; j < on.size(); ++j) rows[on[j]].predicted_position = pos[j];
        }
      }
      out.rows.insert(out.rows.end(), rows.begin(), rows.end());
      out.checks.push_back(std::move(check));
    }
  }
  if (!meas.empty()) {
    double worst = -1;
    for (const auto& [rank, span] : rank_span)
      if (span > worst) {
        worst = span;
        out.slowest_rank = rank;
      }
  }
  return out;
}

}  // namespace parm
