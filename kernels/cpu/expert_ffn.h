// One expert's FFN (or one H-shard of it) on its dispatched rows (spec section 2, step 4):
//   h = Xd W1 + b1;  [SwiGLU: v = Xd W3 + b3];  z = act(h[, v]);  Y = z W2 + b2.
// With expert sharding each rank holds columns [h0,h1) of W1/W3 and rows [h0,h1) of W2; Y is then a partial
// sum over H, so exactly one shard passes b2 (the others pass nullptr) and the sum adds it once.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/cpu/activation.h"

namespace parm::kernels::cpu {

template <typename Scalar>
struct ExpertFfnParams {
  FfnActivation activation = FfnActivation::Gelu;
  std::int64_t hidden = 0;      // M
  std::int64_t ffn_hidden = 0;  // Hs: H, or the shard width
  const Scalar* w1 = nullptr;   // (M,Hs)
  const Scalar* b1 = nullptr;   // (Hs) or nullptr (no bias)
  const Scalar* w3 = nullptr;   // (M,Hs), SwiGLU only
  const Scalar* b3 = nullptr;   // (Hs) or nullptr, SwiGLU only
  const Scalar* w2 = nullptr;   // (Hs,M)
  const Scalar* b2 = nullptr;   // (M) or nullptr (no bias, or not the shard that adds it)
};

// What backward needs from forward; reusing one across calls avoids reallocation.
template <typename Scalar>
struct ExpertFfnSaved {
  std::int64_t rows = 0;
  std::vector<Scalar> h;  // (rows,Hs) first projection, before the activation
  std::vector<Scalar> v;  // (rows,Hs) second projection, SwiGLU only
  std::vector<Scalar> z;  // (rows,Hs) activation output, the input of W2
};

// Parameter gradients are OVERWRITTEN (a caller summing over token groups or replicas adds them itself).
// A null pointer skips that gradient; the bias ones must be null when the matching bias is null.
template <typename Scalar>
struct ExpertFfnGrads {
  Scalar* w1 = nullptr;  // (M,Hs)
  Scalar* b1 = nullptr;  // (Hs)
  Scalar* w3 = nullptr;  // (M,Hs)
  Scalar* b3 = nullptr;  // (Hs)
  Scalar* w2 = nullptr;  // (Hs,M)
  Scalar* b2 = nullptr;  // (M)
};

// y (rows,M) = FFN(xd (rows,M)), OVERWRITE. `saved` may be null when no backward follows.
template <typename Scalar>
void expert_ffn_forward(const ExpertFfnParams<Scalar>& params, const Scalar* xd, std::int64_t rows, Scalar* y,
                        ExpertFfnSaved<Scalar>* saved);

// From dy (rows,M): the parameter gradients in `grads` and dxd (rows,M), all OVERWRITE. For a shard, dxd is
// that shard's partial sum of the input gradient.
template <typename Scalar>
void expert_ffn_backward(const ExpertFfnParams<Scalar>& params, const Scalar* xd, std::int64_t rows,
                         const ExpertFfnSaved<Scalar>& saved, const Scalar* dy,
                         const ExpertFfnGrads<Scalar>& grads, Scalar* dxd);

}  // namespace parm::kernels::cpu
