// What the Compare page's op table must show for a measured run, computed straight from its stored events:
// per op key, the slowest rank's summed time in each iteration, its median and its slowest, for the
// compare suite's checks of time ranges (test_app_compare.cpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <vector>

#include "db/database.h"
#include "engine/model/run_comparison.h"

namespace parm::test {

// Per op key, over the events of `run` overlapping [lo, hi): the slowest rank's summed time (ms) in each
// iteration, and of those the median (what the op table shows) and the slowest.
struct IterationTimes {
  double median = 0, slowest = 0;
};
inline std::map<parm::OpKey, IterationTimes> slowest_rank_per_iteration(const parm::db::Database& db,
                                                                        std::int64_t run, std::int64_t lo,
                                                                        std::int64_t hi) {
  std::map<parm::OpKey, std::map<int, std::map<int, double>>> sums;
  for (const auto& e : db.events(run))
    if (e.iteration >= 0 && e.end_ns > lo && e.start_ns < hi)
      sums[{db.string(e.schedule), e.phase, db.string(e.op), db.string(e.purpose)}][e.iteration][e.rank] +=
          1e-6 * double(e.end_ns - e.start_ns);
  std::map<parm::OpKey, IterationTimes> out;
  for (const auto& [key, iterations] : sums) {
    std::vector<double> t;
    for (const auto& [iteration, ranks] : iterations) {
      double worst = 0;
      for (const auto& [rank, ms] : ranks) worst = std::max(worst, ms);
      t.push_back(worst);
    }
    std::sort(t.begin(), t.end());
    const std::size_t n = t.size();
    out[key] = {n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]), t.back()};
  }
  return out;
}

}  // namespace parm::test
