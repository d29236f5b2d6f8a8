#include "kernels/cpu/dispatch.h"

#include <algorithm>

namespace parm::kernels::cpu {
namespace {

// Row index of choice c in the (E,C,M) layout.
std::int64_t slot_row(const Routing& r, std::int64_t c) {
  return static_cast<std::int64_t>(r.expert[static_cast<std::size_t>(c)]) * r.capacity +
         r.position[static_cast<std::size_t>(c)];
}

}  // namespace

template <typename Scalar>
void dispatch(const Routing& routing, const Scalar* x, std::int64_t hidden, Scalar* dispatched) {
  std::fill(dispatched, dispatched + routing.experts * routing.capacity * hidden, Scalar(0));
  const std::int64_t choices = routing.tokens * routing.top_k;
  for (std::int64_t c = 0; c < choices; ++c) {
    if (!routing.kept(c)) continue;
    const Scalar* src = x + (c / routing.top_k) * hidden;
    std::copy(src, src + hidden, dispatched + slot_row(routing, c) * hidden);
  }
}

template <typename Scalar>
void dispatch_backward(const Routing& routing, const Scalar* d_dispatched, std::int64_t hidden, Scalar* dx) {
  const std::int64_t choices = routing.tokens * routing.top_k;
  for (std::int64_t c = 0; c < choices; ++c) {
    if (!routing.kept(c)) continue;
    const Scalar* src = d_dispatched + slot_row(routing, c) * hidden;
    Scalar* dst = dx + (c / routing.top_k) * hidden;
    for (std::int64_t m = 0; m < hidden; ++m) dst[m] += src[m];
  }
}

template <typename Scalar>
void combine(const Routing& routing, const Scalar* weights, const Scalar* y, std::int64_t hidden,
             Scalar* out) {
  std::fill(out, out + routing.tokens * hidden, Scalar(0));
  const std::int64_t choices = routing.tokens * routing.top_k;
  for (std::int64_t c = 0; c < choices; ++c) {
    if (!routing.kept(c)) continue;
    const Scalar w = weights[c];
    const Scalar* src = y + slot_row(routing, c) * hidden;
    Scalar* dst = out + (c / routing.top_k) * hidden;
    for (std::int64_t m = 0; m < hidden; ++m) dst[m] += w * src[m];
  }
}

template <typename Scalar>
void combine_backward(const Routing& routing, const Scalar* weights, const Scalar* y, const Scalar* dout,
                      std::int64_t hidden, Scalar* dy, Scalar* dweights) {
  std::fill(dy, dy + routing.experts * routing.capacity * hidden, Scalar(0));
  const std::int64_t choices = routing.tokens * routing.top_k;
  for (std::int64_t c = 0; c < choices; ++c) {
    dweights[c] = Scalar(0);
    if (!routing.kept(c)) continue;
    const Scalar w = weights[c];
    const Scalar* g = dout + (c / routing.top_k) * hidden;
    const std::int64_t row = slot_row(routing, c) * hidden;
    Scalar dot = 0;
    for (std::int64_t m = 0; m < hidden; ++m) {
      dy[row + m] = w * g[m];
      dot += g[m] * y[row + m];
    }
    dweights[c] = dot;
  }
}

#define PARM_INSTANTIATE_DISPATCH(Scalar)                                                             \
  template void dispatch<Scalar>(const Routing&, const Scalar*, std::int64_t, Scalar*);               \
  template void dispatch_backward<Scalar>(const Routing&, const Scalar*, std::int64_t, Scalar*);      \
  template void combine<Scalar>(const Routing&, const Scalar*, const Scalar*, std::int64_t, Scalar*); \
  template void combine_backward<Scalar>(const Routing&, const Scalar*, const Scalar*, const Scalar*, \
                                         std::int64_t, Scalar*, Scalar*);

PARM_INSTANTIATE_DISPATCH(float)
PARM_INSTANTIATE_DISPATCH(double)
#undef PARM_INSTANTIATE_DISPATCH

}  // namespace parm::kernels::cpu
