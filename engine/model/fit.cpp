#include "engine/model/fit.h"

#include <stdexcept>

namespace parm {

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
  double mean = 0;
  for (const auto& s : samples) mean += s.t;
  mean /= static_cast<double>(samples.size());
  double ss_res = 0, ss_tot = 0;
  for (const auto& s : samples) {
    const double r = s.t - (f.alpha + f.beta * s.n);
    ss_res += r * r;
    ss_tot += (s.t - mean) * (s.t - mean);
  }
  f.r2 = ss_tot > 0 ? 1.0 - ss_res / ss_tot : 1.0;
  return f;
}

}  // namespace parm
