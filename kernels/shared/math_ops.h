// exp for PARM_HD code: std::exp on the host (what kernels/cpu calls, so host results are bit-identical to
// it), the CUDA math library on the device.
#pragma once

#include <cmath>

#include "kernels/hd.h"

namespace parm::kernels::shared {

PARM_HD inline float exp_of(float v) {
#if defined(__CUDA_ARCH__)
  return expf(v);
#else
  return std::exp(v);
#endif
}

PARM_HD inline double exp_of(double v) {
#if defined(__CUDA_ARCH__)
  return ::exp(v);
#else
  return std::exp(v);
#endif
}

}  // namespace parm::kernels::shared
