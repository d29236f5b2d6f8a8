// Every fit of timing samples to t = alpha + beta * n (calibration, spec parm.md section 6), in one place:
// the weighted least-squares line, the calibration's guarded variant of it (no negative times predicted) and
// the non-negative ordinary line for overheads that can be ~0. Timing noise is roughly proportional to the
// time, so the weighted fits use 1/t^2 (relative residuals): a large message's jitter must not swamp the
// small ones that determine alpha.
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

// A fit as calibration stores it: whether there is one, and whether it was forced through the origin.
struct GuardedFit {
  bool fitted = false;  // false: fewer than two sizes (or a non-positive time), nothing to store
  LinearFit line;
  bool through_origin = false;  // the unconstrained alpha was negative
  bool constant = false;        // the slope was negative: the line is the mean time (r2 0)
};

// fit_alpha_beta, guarded so the stored line never predicts a negative time: a negative slope (times that
// shrink with size, noise on a short sweep) becomes the mean time as a constant (r2 0); a negative fixed
// cost (kernels that slow down per element once their data leaves the cache bend the line upwards) is refit
// through the origin, t = beta * n, with the same 1/t^2 weights.
GuardedFit fit_measured(const std::vector<FitSample>& samples);

// An ordinary (unweighted) least-squares line with alpha, beta >= 0, for overheads ("sync", and "pipeline"
// when the weighted fit fails) whose extra time can be ~0 on a quiet machine, which 1/t^2 weights cannot
// take. Not fitted without samples.
GuardedFit fit_nonnegative_line(const std::vector<FitSample>& samples);

// The measured curve itself, for overheads no line fits (the fused pipelines' extra stays ~0 while a step
// fits the transport's buffers and then jumps): linear between the samples (sorted by n), the first
// sample's time below them, proportional to n above them. 0 without samples.
double interpolate_samples(std::vector<FitSample> samples, double n);

}  // namespace parm
