#include "engine/model/cost_model.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "engine/schedules/group_specs.h"
#include "engine/schedules/lane.h"
#include "engine/schedules/schedule_registry.h"

namespace parm {
namespace {

double share(std::int64_t n) {
  return n > 0 ? static_cast<double>(n - 1) / static_cast<double>(n) : 0.0;
}

// One pairwise step of a pipeline moving 1/W of the stage's bytes.
double step_ms(const CommCostParams& p, const CollectiveVolume& v, std::int64_t w) {
  const double part = static_cast<double>(v.bytes) / static_cast<double>(w);
  switch (v.collective) {
    case Collective::AlltoAll:
      return p.p2p_alpha_ms + p.alltoall.beta_ms_per_byte * part;
    case Collective::AllGather:
      return p.allgather.alpha_ms + p.allgather.beta_ms_per_byte * share(v.group_size) * part;
    case Collective::ReduceScatter:
      return p.reduce_scatter.alpha_ms + p.reduce_scatter.beta_ms_per_byte * share(v.group_size) * part;
    case Collective::AllReduce:
      break;
  }
  throw std::logic_error("an AllReduce is never pipelined");
}

}  // namespace

double collective_ms(const CommCostParams& p, Collective c, std::int64_t n, std::int64_t bytes) {
  const double b = static_cast<double>(bytes);
  switch (c) {
    case Collective::AlltoAll:
      return p.alltoall.alpha_ms + p.alltoall.beta_ms_per_byte * b;
    case Collective::AllGather:
      return p.allgather.alpha_ms + p.allgather.beta_ms_per_byte * share(n) * b;
    case Collective::ReduceScatter:
      return p.reduce_scatter.alpha_ms + p.reduce_scatter.beta_ms_per_byte * share(n) * b;
    case Collective::AllReduce:
      return p.allreduce.alpha_ms + p.allreduce.beta_ms_per_byte * 2.0 * share(n) * b;
  }
  return 0;
}

std::string SchedulePrediction::dominant() const {
  const auto it =
      std::max_element(terms.begin(), terms.end(), [](const auto& a, const auto& b) { return a.ms < b.ms; });
  return it == terms.end() ? std::string() : it->what;
}

SchedulePrediction predict_forward_comm(const Config& config, const DerivedSizes& sizes,
                                        const CommCostParams& p, ScheduleKind kind) {
  SchedulePrediction out;
  out.kind = kind;
  const bool shared_link = sizes.nodes <= 1;
  const std::int64_t w = sizes.n_ep;
  std::vector<CollectiveVolume> forward;
  for (const auto& v : schedule_volumes(config, sizes, kind))
    if (v.pass == Pass::Forward) forward.push_back(v);
  for (std::size_t i = 0; i < forward.size();) {
    const CollectiveVolume& v = forward[i];
    if (v.fused.empty()) {
      out.terms.push_back(
          {std::string(to_string(v.collective)) + "(" + std::string(to_string(v.group)) + ") " + v.purpose,
           collective_ms(p, v.collective, v.group_size, v.bytes), false});
      ++i;
      continue;
    }
    // Consecutive steps with the same fused label form one pipeline. In steady state every link carries
    // one step of each of its stages per step: the busiest link's per-step load L paces the pipeline.
    double sum = 0, intra = 0, inter = 0;
    std::size_t j = i;
    for (; j < forward.size() && forward[j].fused == v.fused; ++j) {
      const double s = step_ms(p, forward[j], w);
      sum += s;
      (lane_of(forward[j].group) == Lane::Inter ? inter : intra) += s;
    }
    const double link = shared_link ? sum : std::max(intra, inter);
    const double t = sum + static_cast<double>(w - 1) * link;
    out.terms.push_back({v.fused + " " + v.purpose, t, true});
    i = j;
  }
  for (const auto& t : out.terms) out.forward_comm_ms += t.ms;
  return out;
}

ScheduleKind select_schedule(const std::vector<SchedulePrediction>& predictions) {
  if (predictions.empty()) throw std::invalid_argument("select_schedule: no predictions");
  const SchedulePrediction* best = &predictions.front();
  for (const auto& p : predictions) {
    const double scale = std::max(std::abs(p.forward_comm_ms), std::abs(best->forward_comm_ms));
    const bool tie = std::abs(p.forward_comm_ms - best->forward_comm_ms) <= 1e-6 * scale;
    if ((!tie && p.forward_comm_ms < best->forward_comm_ms) ||
        (tie && spec_of(p.kind).tie_rank < spec_of(best->kind).tie_rank))
      best = &p;
  }
  return best->kind;
}

}  // namespace parm
