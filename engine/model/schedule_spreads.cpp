#include "engine/model/schedule_spreads.h"

#include <algorithm>

namespace parm {

std::map<ScheduleKind, IterationSamples> iteration_samples(const RunResult& result) {
  std::map<ScheduleKind, IterationSamples> out;
  if (result.ranks.empty()) return out;
  for (const RankScheduleResult& first : result.ranks.front().schedules) {
    std::vector<const RankScheduleResult*> per_rank;
    std::size_t iterations = std::min(first.forward_s.size(), first.backward_s.size());
    for (const RankRunResult& r : result.ranks)
      for (const RankScheduleResult& s : r.schedules)
        if (s.kind == first.kind) {
          per_rank.push_back(&s);
          iterations = std::min({iterations, s.forward_s.size(), s.backward_s.size()});
        }
    IterationSamples samples;
    for (std::size_t it = 0; it < iterations; ++it) {
      double f = 0, b = 0, layer = 0;
      for (const RankScheduleResult* s : per_rank) {
        f = std::max(f, s->forward_s[it]);
        b = std::max(b, s->backward_s[it]);
        layer = std::max(layer, s->forward_s[it] + s->backward_s[it]);
      }
      samples.forward_ms.push_back(1e3 * f);
      samples.backward_ms.push_back(1e3 * b);
      samples.layer_ms.push_back(1e3 * layer);
    }
    out[first.kind] = std::move(samples);
  }
  return out;
}

std::map<ScheduleKind, ScheduleSpreads> schedule_spreads(const RunResult& result) {
  std::map<ScheduleKind, ScheduleSpreads> out;
  for (auto& [kind, samples] : iteration_samples(result))
    out[kind] = {spread_of(std::move(samples.forward_ms)), spread_of(std::move(samples.backward_ms)),
                 spread_of(std::move(samples.layer_ms))};
  return out;
}

}  // namespace parm
