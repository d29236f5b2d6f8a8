#include "kernels/cpu/gate.h"

#include "kernels/cpu/blas.h"
#include "kernels/shared/softmax_math.h"

namespace parm::kernels::cpu {

// Row by row through kernels/shared, the same functions the CUDA kernels run (one order of operations).
template <typename Scalar>
void softmax_rows(Scalar* values, std::int64_t rows, std::int64_t cols) {
  for (std::int64_t r = 0; r < rows; ++r) shared::softmax_row(values + r * cols, cols);
}

template <typename Scalar>
void softmax_rows_backward(const Scalar* probs, const Scalar* dprobs, std::int64_t rows, std::int64_t cols,
                           Scalar* dlogits) {
  for (std::int64_t r = 0; r < rows; ++r)
    shared::softmax_row_backward(probs + r * cols, dprobs + r * cols, cols, dlogits + r * cols);
}

template <typename Scalar>
void gate_forward(const Scalar* x, const Scalar* wg, std::int64_t tokens, std::int64_t hidden,
                  std::int64_t experts, Scalar* probs) {
  gemm<Scalar>(Trans::No, Trans::No, tokens, experts, hidden, Scalar(1), x, wg, Scalar(0), probs);
  softmax_rows(probs, tokens, experts);
}

template <typename Scalar>
void gate_backward(const Scalar* x, const Scalar* wg, const Scalar* probs, const Scalar* dprobs,
                   std::int64_t tokens, std::int64_t hidden, std::int64_t experts, Scalar* dlogits,
                   Scalar* dwg, Scalar* dx) {
  softmax_rows_backward(probs, dprobs, tokens, experts, dlogits);
  // dWg (M,E) = X^T (M,T) * dlogits (T,E)
  gemm<Scalar>(Trans::Yes, Trans::No, hidden, experts, tokens, Scalar(1), x, dlogits, Scalar(0), dwg);
  // dX (T,M) += dlogits (T,E) * Wg^T (E,M)
  gemm<Scalar>(Trans::No, Trans::Yes, tokens, hidden, experts, Scalar(1), dlogits, wg, Scalar(1), dx);
}

#define PARM_INSTANTIATE_GATE(Scalar)                                                                        \
  template void softmax_rows<Scalar>(Scalar*, std::int64_t, std::int64_t);                                   \
  template void softmax_rows_backward<Scalar>(const Scalar*, const Scalar*, std::int64_t, std::int64_t,      \
                                              Scalar*);                                                      \
  template void gate_forward<Scalar>(const Scalar*, const Scalar*, std::int64_t, std::int64_t, std::int64_t, \
                                     Scalar*);                                                               \
  template void gate_backward<Scalar>(const Scalar*, const Scalar*, const Scalar*, const Scalar*,            \
                                      std::int64_t, std::int64_t, std::int64_t, Scalar*, Scalar*, Scalar*);

PARM_INSTANTIATE_GATE(float)
PARM_INSTANTIATE_GATE(double)
#undef PARM_INSTANTIATE_GATE

}  // namespace parm::kernels::cpu
