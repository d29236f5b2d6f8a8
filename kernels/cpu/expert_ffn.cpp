#include "kernels/cpu/expert_ffn.h"

#include <algorithm>
#include <stdexcept>

#include "kernels/cpu/blas.h"

namespace parm::kernels::cpu {
namespace {

// out (rows,cols) = broadcast bias, or zero without one: the GEMM then accumulates on top (beta = 1).
template <typename Scalar>
void init_with_bias(Scalar* out, const Scalar* bias, std::int64_t rows, std::int64_t cols) {
  for (std::int64_t r = 0; r < rows; ++r) {
    if (bias)
      std::copy(bias, bias + cols, out + r * cols);
    else
      std::fill(out + r * cols, out + (r + 1) * cols, Scalar(0));
  }
}

template <typename Scalar>
void column_sums(const Scalar* m, std::int64_t rows, std::int64_t cols, Scalar* out) {
  std::fill(out, out + cols, Scalar(0));
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::int64_t c = 0; c < cols; ++c) out[c] += m[r * cols + c];
}

}  // namespace

template <typename Scalar>
void expert_ffn_forward(const ExpertFfnParams<Scalar>& p, const Scalar* xd, std::int64_t rows, Scalar* y,
                        ExpertFfnSaved<Scalar>* saved) {
  const bool swiglu = p.activation == FfnActivation::Swiglu;
  if (swiglu && !p.w3) throw std::invalid_argument("expert_ffn_forward: SwiGLU needs w3");
  ExpertFfnSaved<Scalar> local;
  ExpertFfnSaved<Scalar>& s = saved ? *saved : local;
  const std::int64_t m = p.hidden;
  const std::int64_t hs = p.ffn_hidden;
  const auto n = static_cast<std::size_t>(rows * hs);
  s.rows = rows;
  s.h.resize(n);
  s.z.resize(n);
  s.v.resize(swiglu ? n : 0);

  init_with_bias(s.h.data(), p.b1, rows, hs);
  gemm<Scalar>(Trans::No, Trans::No, rows, hs, m, Scalar(1), xd, p.w1, Scalar(1), s.h.data());
  if (swiglu) {
    init_with_bias(s.v.data(), p.b3, rows, hs);
    gemm<Scalar>(Trans::No, Trans::No, rows, hs, m, Scalar(1), xd, p.w3, Scalar(1), s.v.data());
    swiglu_forward(s.h.data(), s.v.data(), rows * hs, s.z.data());
  } else {
    gelu_forward(s.h.data(), rows * hs, s.z.data());
  }
  init_with_bias(y, p.b2, rows, m);
  gemm<Scalar>(Trans::No, Trans::No, rows, m, hs, Scalar(1), s.z.data(), p.w2, Scalar(1), y);
}

template <typename Scalar>
void expert_ffn_backward(const ExpertFfnParams<Scalar>& p, const Scalar* xd, std::int64_t rows,
                         const ExpertFfnSaved<Scalar>& s, const Scalar* dy, const ExpertFfnGrads<Scalar>& g,
                         Scalar* dxd) {
  if (s.rows != rows)
    throw std::invalid_argument("expert_ffn_backward: saved state is for another row count");
  const bool swiglu = p.activation == FfnActivation::Swiglu;
  const std::int64_t m = p.hidden;
  const std::int64_t hs = p.ffn_hidden;
  const auto n = static_cast<std::size_t>(rows * hs);

  // Second projection: dW2 (Hs,M) = z^T dY, db2 = column sums of dY, dz (rows,Hs) = dY W2^T.
  if (g.w2) gemm<Scalar>(Trans::Yes, Trans::No, hs, m, rows, Scalar(1), s.z.data(), dy, Scalar(0), g.w2);
  if (g.b2) column_sums(dy, rows, m, g.b2);
  std::vector<Scalar> dz(n);
  gemm<Scalar>(Trans::No, Trans::Yes, rows, hs, m, Scalar(1), dy, p.w2, Scalar(0), dz.data());

  std::vector<Scalar> dh(n);
  std::vector<Scalar> dv(swiglu ? n : 0);
  if (swiglu)
    swiglu_backward(s.h.data(), s.v.data(), dz.data(), rows * hs, dh.data(), dv.data());
  else
    gelu_backward(s.h.data(), dz.data(), rows * hs, dh.data());

  // First projection(s): dW1 (M,Hs) = Xd^T dh, db1 = column sums of dh, dXd = dh W1^T [+ dv W3^T].
  if (g.w1) gemm<Scalar>(Trans::Yes, Trans::No, m, hs, rows, Scalar(1), xd, dh.data(), Scalar(0), g.w1);
  if (g.b1) column_sums(dh.data(), rows, hs, g.b1);
  gemm<Scalar>(Trans::No, Trans::Yes, rows, m, hs, Scalar(1), dh.data(), p.w1, Scalar(0), dxd);
  if (swiglu) {
    if (g.w3) gemm<Scalar>(Trans::Yes, Trans::No, m, hs, rows, Scalar(1), xd, dv.data(), Scalar(0), g.w3);
    if (g.b3) column_sums(dv.data(), rows, hs, g.b3);
    gemm<Scalar>(Trans::No, Trans::Yes, rows, m, hs, Scalar(1), dv.data(), p.w3, Scalar(1), dxd);
  }
}

#define PARM_INSTANTIATE_EXPERT_FFN(Scalar)                                                              \
  template void expert_ffn_forward<Scalar>(const ExpertFfnParams<Scalar>&, const Scalar*, std::int64_t,  \
                                           Scalar*, ExpertFfnSaved<Scalar>*);                            \
  template void expert_ffn_backward<Scalar>(const ExpertFfnParams<Scalar>&, const Scalar*, std::int64_t, \
                                            const ExpertFfnSaved<Scalar>&, const Scalar*,                \
                                            const ExpertFfnGrads<Scalar>&, Scalar*);

PARM_INSTANTIATE_EXPERT_FFN(float)
PARM_INSTANTIATE_EXPERT_FFN(double)
#undef PARM_INSTANTIATE_EXPERT_FFN

}  // namespace parm::kernels::cpu
