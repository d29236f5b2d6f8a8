// Least-squares fit of t = alpha + beta * n to timing samples (calibration, spec parm.md section 6). Timing
// noise is roughly proportional to the time, so samples are weighted by 1/t^2 (relative residuals): a large
// message's jitter must not swamp the small ones that determine alpha.
#pragma once

#include <vector>

namespace parm {

struct FitSample {
  double n = 0;  // size (bytes, or m*n*k for GEMMs)
  double t = 0;  // time, ms
};

struct LinearFit {
  double alpha = 0;
  double beta = 0;
  double r2 = 0;  // coefficient of determination of the unweighted residuals
  int samples = 0;
};

// Throws std::invalid_argument with fewer than two distinct sizes or a non-positive time.
LinearFit fit_alpha_beta(const std::vector<FitSample>& samples);

}  // namespace parm
