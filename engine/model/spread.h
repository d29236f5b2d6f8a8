// How much a measured time varies (over iterations and ranks) and when two measurements cannot be told
// apart: the rule every verdict of the tool uses (Compare's verdict, the "Best" marks, compare two runs).
#pragma once

#include <cstddef>
#include <vector>

namespace parm {

// Percentiles of a sample by linear interpolation between closest ranks (numpy's default), n = 0: all zero.
struct Spread {
  double p10 = 0;
  double p50 = 0;
  double p90 = 0;
  double min = 0;
  double max = 0;
  std::size_t n = 0;
};

Spread spread_of(std::vector<double> samples);

// Two measurements are tied within noise when their p10-p90 intervals overlap (an interval of one sample
// is a point). Neither is then reported as faster.
bool tied_within_noise(const Spread& a, const Spread& b);

// The speedup a/b (a's time over b's, > 1: b is faster) with its spread: p10 = a.p10/b.p90 (pessimistic),
// p50 = a.p50/b.p50, p90 = a.p90/b.p10; all zero when either has no sample or a zero time.
Spread speedup_spread(const Spread& a, const Spread& b);

}  // namespace parm
