#include "engine/model/spread.h"

#include <algorithm>
#include <cmath>

namespace parm {

namespace {

double percentile(const std::vector<double>& sorted, double q) {
  const double pos = q * static_cast<double>(sorted.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, sorted.size() - 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - static_cast<double>(lo));
}

}  // namespace

Spread spread_of(std::vector<double> samples) {
  Spread s;
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  s.n = samples.size();
  s.min = samples.front();
  s.max = samples.back();
  s.p10 = percentile(samples, 0.10);
  s.p50 = percentile(samples, 0.50);
  s.p90 = percentile(samples, 0.90);
  return s;
}

bool tied_within_noise(const Spread& a, const Spread& b) {
  if (a.n == 0 || b.n == 0) return false;
  return a.p10 <= b.p90 && b.p10 <= a.p90;
}

Spread speedup_spread(const Spread& a, const Spread& b) {
  Spread s;
  if (a.n == 0 || b.n == 0 || b.p10 <= 0 || b.p50 <= 0 || b.p90 <= 0) return s;
  s.n = std::min(a.n, b.n);
  s.p10 = a.p10 / b.p90;
  s.p50 = a.p50 / b.p50;
  s.p90 = a.p90 / b.p10;
  s.min = b.max > 0 ? a.min / b.max : 0;
  s.max = b.min > 0 ? a.max / b.min : 0;
  return s;
}

}  // namespace parm
