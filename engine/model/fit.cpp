#include "engine/model/fit.h"

#include <algorithm>
#include <stdexcept>

namespace parm {
namespace {

// 1 - SS_res / SS_tot of the unweighted residuals (1 when every time is the same).
double r_squared(const std::vector<FitSample>& samples, double alpha, double beta) {
  double mean = 0;
  for (const auto& s : samples) mean += s.t;
  mean /= static_cast<double>(samples.size());
  double ss_res = 0, ss_tot = 0;
  for (const auto& s : samples) {
    const double r = s.t - (alpha + beta * s.n);
    ss_res += r * r;
    ss_tot += (s.t - mean) * (s.t - mean);
  }
  return ss_tot > 0 ? 1.0 - ss_res / ss_tot : 1.0;
}

}  // namespace

LinearFit fit_alpha_beta(const std::vector<FitSample>& samples) {
  double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const auto& s : samples) {
    if (!(s.t > 0)) throw std::invalid_argument("fit: every time must be positive");
    const double w = 1.0 / (s.t * s.t);
    sw += w;
    sx += w * s.n;
    sy += w * s.t;
    sxx += w * s.n * s.n;
    sxy += w * s.n * s.t;
  }
  const double det = sw * sxx - sx * sx;
  if (samples.size() < 2 || !(det > 1e-300 * sw * sxx))
    throw std::invalid_argument("fit: needs at least two distinct sizes");
  LinearFit f;
  f.beta = (sw * sxy - sx * sy) / det;
  f.alpha = (sy - f.beta * sx) / sw;
  f.samples = static_cast<int>(samples.size());
  f.r2 = r_squared(samples, f.alpha, f.beta);
  return f;
}

GuardedFit fit_measured(const std::vector<FitSample>& samples) {
  GuardedFit g;
  try {
    g.line = fit_alpha_beta(samples);
    g.fitted = true;
  } catch (const std::invalid_argument&) {
    return g;  // fewer than two sizes: reported as not fitted
  }
  if (g.line.beta < 0) {
    // A negative slope would predict negative times for large messages and is refused on load: store the
    // constant that fits best, the mean time.
    double mean = 0;
    for (const FitSample& x : samples) mean += x.t;
    g.line.alpha = mean / double(samples.size());
    g.line.beta = 0;
    g.line.r2 = 0;
    g.constant = true;
    return g;
  }
  if (g.line.alpha >= 0) return g;
  double num = 0, den = 0;
  for (const FitSample& x : samples) {
    num += x.n / x.t;
    den += (x.n / x.t) * (x.n / x.t);
  }
  if (den <= 0) return g;
  g.line.alpha = 0;
  g.line.beta = num / den;
  g.line.r2 = r_squared(samples, 0, g.line.beta);
  g.through_origin = true;
  return g;
}

GuardedFit fit_nonnegative_line(const std::vector<FitSample>& samples) {
  const double n = double(samples.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (const FitSample& f : samples) {
    sx += f.n;
    sy += f.t;
    sxx += f.n * f.n;
    sxy += f.n * f.t;
  }
  GuardedFit g;
  const double den = n * sxx - sx * sx;
  g.line.beta = den > 0 ? std::max(0.0, (n * sxy - sx * sy) / den) : 0.0;
  g.line.alpha = n > 0 ? (sy - g.line.beta * sx) / n : 0.0;
  if (g.line.alpha < 0) {  // refit through the origin rather than keep the slope of a negative intercept
    g.line.alpha = 0;
    g.line.beta = sxx > 0 ? std::max(0.0, sxy / sxx) : 0.0;
    g.through_origin = true;
  }
  g.line.r2 = n > 0 ? r_squared(samples, g.line.alpha, g.line.beta) : 1.0;
  g.line.samples = static_cast<int>(n);
  g.fitted = n > 0;
  return g;
}

double interpolate_samples(std::vector<FitSample> samples, double n) {
  if (samples.empty()) return 0.0;
  std::sort(samples.begin(), samples.end(), [](const FitSample& a, const FitSample& b) { return a.n < b.n; });
  if (n <= samples.front().n) return samples.front().t;
  for (std::size_t i = 1; i < samples.size(); ++i) {
    const FitSample &lo = samples[i - 1], &hi = samples[i];
    if (n <= hi.n) return hi.n > lo.n ? lo.t + (hi.t - lo.t) * (n - lo.n) / (hi.n - lo.n) : hi.t;
  }
  const FitSample& last = samples.back();
  return last.n > 0 ? last.t * n / last.n : last.t;
}

}  // namespace parm
