// LayerNorm of one row and its backward (issue 18: the Transformer blocks around the MoE layer). Per row of n
// values: mean, rstd = 1 / sqrt(var + eps) with the biased variance (what PyTorch's LayerNorm and Megatron
// compute), y = (x - mean) * rstd * gamma + beta. The backward is the standard closed form; gamma and beta
// gradients are accumulated over rows by the caller. S is the math type (float or double).
#pragma once

#include <cmath>
#include <cstdint>

#include "kernels/hd.h"

namespace parm::kernels::shared {

// The epsilon BERT and GPT-2 use, for every LayerNorm of a model (the blocks and the reference).
inline constexpr double kLayerNormEpsilon = 1e-5;

template <typename S>
PARM_HD S rsqrt_of(S v) {
#if defined(__CUDA_ARCH__)
  return S(1) / sqrt(v);
#else
  return S(1) / std::sqrt(v);
#endif
}

// y[0, n) from x[0, n); *mean and *rstd are what the backward needs.
template <typename S>
PARM_HD void layer_norm_row(const S* x, std::int64_t n, const S* gamma, const S* beta, S eps, S* y, S* mean,
                            S* rstd) {
  S sum = 0;
  for (std::int64_t i = 0; i < n; ++i) sum += x[i];
  const S m = sum / S(n);
  S var = 0;
  for (std::int64_t i = 0; i < n; ++i) var += (x[i] - m) * (x[i] - m);
  const S r = rsqrt_of(var / S(n) + eps);
  for (std::int64_t i = 0; i < n; ++i) y[i] = (x[i] - m) * r * gamma[i] + beta[i];
  *mean = m;
  *rstd = r;
}

// dx[0, n) (OVERWRITE) from dy. With xhat = (x - mean) * rstd and g = dy * gamma:
// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)).
template <typename S>
PARM_HD void layer_norm_row_input_grad(const S* x, const S* dy, std::int64_t n, const S* gamma, S mean,
                                       S rstd, S* dx) {
  S sum_g = 0, sum_gx = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const S xhat = (x[i] - mean) * rstd;
    const S g = dy[i] * gamma[i];
    sum_g += g;
    sum_gx += g * xhat;
  }
  const S mean_g = sum_g / S(n), mean_gx = sum_gx / S(n);
  for (std::int64_t i = 0; i < n; ++i) {
    const S xhat = (x[i] - mean) * rstd;
    dx[i] = rstd * (dy[i] * gamma[i] - mean_g - xhat * mean_gx);
  }
}

// The row's part of the parameter gradients: dgamma[i] += dy[i] * xhat[i], dbeta[i] += dy[i] (ACCUMULATE).
template <typename S>
PARM_HD void layer_norm_row_param_grad(const S* x, const S* dy, std::int64_t n, S mean, S rstd, S* dgamma,
                                       S* dbeta) {
  for (std::int64_t i = 0; i < n; ++i) {
    dgamma[i] += dy[i] * (x[i] - mean) * rstd;
    dbeta[i] += dy[i];
  }
}

// Both: dx (OVERWRITE), dgamma and dbeta (ACCUMULATE).
template <typename S>
PARM_HD void layer_norm_row_backward(const S* x, const S* dy, std::int64_t n, const S* gamma, S mean, S rstd,
                                     S* dx, S* dgamma, S* dbeta) {
  layer_norm_row_param_grad(x, dy, n, mean, rstd, dgamma, dbeta);
  layer_norm_row_input_grad(x, dy, n, gamma, mean, rstd, dx);
}

}  // namespace parm::kernels::shared
