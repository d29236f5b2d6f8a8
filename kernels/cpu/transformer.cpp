#include "kernels/cpu/transformer.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "kernels/cpu/blas.h"
#include "kernels/shared/attention_math.h"
#include "kernels/shared/cross_entropy_math.h"
#include "kernels/shared/layer_norm_math.h"
#include "kernels/shared/softmax_math.h"

namespace parm::kernels::cpu {

template <typename Scalar>
void layer_norm_forward(const Scalar* x, std::int64_t rows, std::int64_t n, const Scalar* gamma,
                        const Scalar* beta, Scalar eps, Scalar* y, Scalar* mean, Scalar* rstd) {
  for (std::int64_t r = 0; r < rows; ++r)
    shared::layer_norm_row(x + r * n, n, gamma, beta, eps, y + r * n, mean + r, rstd + r);
}

template <typename Scalar>
void layer_norm_backward(const Scalar* x, const Scalar* dy, std::int64_t rows, std::int64_t n,
                         const Scalar* gamma, const Scalar* mean, const Scalar* rstd, Scalar* dx,
                         Scalar* dgamma, Scalar* dbeta) {
  for (std::int64_t r = 0; r < rows; ++r)
    shared::layer_norm_row_backward(x + r * n, dy + r * n, n, gamma, mean[r], rstd[r], dx + r * n, dgamma,
                                    dbeta);
}

namespace {

// Where sequence b, head h starts in qkv (part 0 = Q, 1 = K, 2 = V) and in ctx.
struct HeadView {
  std::int64_t ld_qkv, ld_ctx, L, d;
  std::int64_t qkv_offset(std::int64_t b, std::int64_t h, int part) const {
    return b * L * ld_qkv + part * ld_ctx + h * d;
  }
  std::int64_t ctx_offset(std::int64_t b, std::int64_t h) const { return b * L * ld_ctx + h * d; }
};

HeadView view_of(const AttentionShape& s) {
  return {3 * s.width(), s.width(), s.seq, s.head_dim};
}

}  // namespace

template <typename Scalar>
void attention_forward(const AttentionShape& s, const Scalar* qkv, Scalar* probs, Scalar* ctx) {
  const HeadView v = view_of(s);
  const std::int64_t L = s.seq, d = s.head_dim;
  const Scalar scale = Scalar(1) / std::sqrt(Scalar(d));
  for (std::int64_t b = 0; b < s.batch; ++b)
    for (std::int64_t h = 0; h < s.heads; ++h) {
      Scalar* p = probs + (b * s.heads + h) * L * L;
      // scores = Q K^T, then each row scaled, masked and normalised.
      gemm(Trans::No, Trans::Yes, L, L, d, Scalar(1), qkv + v.qkv_offset(b, h, 0), v.ld_qkv,
           qkv + v.qkv_offset(b, h, 1), v.ld_qkv, Scalar(0), p, L);
      for (std::int64_t q = 0; q < L; ++q)
        shared::attention_probs_row(p + q * L, L, s.causal ? q + 1 : L, scale);
      gemm(Trans::No, Trans::No, L, d, L, Scalar(1), p, L, qkv + v.qkv_offset(b, h, 2), v.ld_qkv, Scalar(0),
           ctx + v.ctx_offset(b, h), v.ld_ctx);
    }
}

template <typename Scalar>
void attention_backward(const AttentionShape& s, const Scalar* qkv, const Scalar* probs, const Scalar* dctx,
                        Scalar* dqkv, Scalar* scratch) {
  const HeadView v = view_of(s);
  const std::int64_t L = s.seq, d = s.head_dim;
  const Scalar scale = Scalar(1) / std::sqrt(Scalar(d));
  Scalar* dp = scratch;
  Scalar* dscores = scratch + L * L;
  for (std::int64_t b = 0; b < s.batch; ++b)
    for (std::int64_t h = 0; h < s.heads; ++h) {
      const Scalar* p = probs + (b * s.heads + h) * L * L;
      const Scalar* q = qkv + v.qkv_offset(b, h, 0);
      const Scalar* k = qkv + v.qkv_offset(b, h, 1);
      const Scalar* val = qkv + v.qkv_offset(b, h, 2);
      const Scalar* dc = dctx + v.ctx_offset(b, h);
      // dP = dctx V^T; dV = P^T dctx.
      gemm(Trans::No, Trans::Yes, L, L, d, Scalar(1), dc, v.ld_ctx, val, v.ld_qkv, Scalar(0), dp, L);
      gemm(Trans::Yes, Trans::No, L, d, L, Scalar(1), p, L, dc, v.ld_ctx, Scalar(0),
           dqkv + v.qkv_offset(b, h, 2), v.ld_qkv);
      for (std::int64_t r = 0; r < L; ++r)
        shared::attention_probs_row_backward(p + r * L, dp + r * L, L, s.causal ? r + 1 : L, scale,
                                             dscores + r * L);
      // dQ = dS K; dK = dS^T Q.
      gemm(Trans::No, Trans::No, L, d, L, Scalar(1), dscores, L, k, v.ld_qkv, Scalar(0),
           dqkv + v.qkv_offset(b, h, 0), v.ld_qkv);
      gemm(Trans::Yes, Trans::No, L, d, L, Scalar(1), dscores, L, q, v.ld_qkv, Scalar(0),
           dqkv + v.qkv_offset(b, h, 1), v.ld_qkv);
    }
}

template <typename Scalar>
Scalar cross_entropy(const Scalar* logits, const std::int64_t* targets, std::int64_t rows, std::int64_t vocab,
                     Scalar* dlogits) {
  Scalar total = 0;
  const Scalar scale = Scalar(1) / Scalar(rows);
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::int64_t t = targets[r];
    if (t < 0 || t >= vocab)
      throw std::out_of_range("cross_entropy: target " + std::to_string(t) + " of row " + std::to_string(r) +
                              " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
    const Scalar* row = logits + r * vocab;
    const Scalar max = shared::row_max(row, vocab);
    const Scalar sum = shared::partial_exp_sum(row, vocab, max);
    total += shared::cross_entropy_loss(max, sum, shared::target_logit_part(row, 0, vocab, t));
    shared::cross_entropy_row_backward(row, 0, vocab, t, max, sum, scale, dlogits + r * vocab);
  }
  return total * scale;
}

template <typename Scalar>
void row_max(const Scalar* logits, std::int64_t rows, std::int64_t cols, Scalar* max) {
  for (std::int64_t r = 0; r < rows; ++r) max[r] = shared::row_max(logits + r * cols, cols);
}

template <typename Scalar>
void cross_entropy_parts(const Scalar* logits, std::int64_t rows, std::int64_t cols, std::int64_t first,
                         const std::int64_t* targets, const Scalar* max, Scalar* sum, Scalar* target_logit) {
  for (std::int64_t r = 0; r < rows; ++r) {
    const Scalar* row = logits + r * cols;
    sum[r] = shared::partial_exp_sum(row, cols, max[r]);
    target_logit[r] = shared::target_logit_part(row, first, cols, targets[r]);
  }
}

template <typename Scalar>
void cross_entropy_rows_backward(const Scalar* logits, std::int64_t rows, std::int64_t cols,
                                 std::int64_t first, const std::int64_t* targets, const Scalar* max,
                                 const Scalar* sum, Scalar scale, Scalar* dlogits) {
  for (std::int64_t r = 0; r < rows; ++r)
    shared::cross_entropy_row_backward(logits + r * cols, first, cols, targets[r], max[r], sum[r], scale,
                                       dlogits + r * cols);
}

template <typename Scalar>
Scalar cross_entropy_row_loss(Scalar max, Scalar sum, Scalar target_logit) {
  return shared::cross_entropy_loss(max, sum, target_logit);
}

template <typename Scalar>
void embedding_forward(const std::int64_t* ids, std::int64_t count, const Scalar* table, std::int64_t first,
                       std::int64_t table_rows, std::int64_t width, Scalar* out, bool accumulate) {
  for (std::int64_t i = 0; i < count; ++i) {
    Scalar* o = out + i * width;
    const std::int64_t row = ids[i] - first;
    const bool held = row >= 0 && row < table_rows;
    for (std::int64_t c = 0; c < width; ++c) {
      const Scalar v = held ? table[row * width + c] : Scalar(0);
      o[c] = accumulate ? o[c] + v : v;
    }
  }
}

template <typename Scalar>
void embedding_backward(const std::int64_t* ids, std::int64_t count, const Scalar* dout, std::int64_t first,
                        std::int64_t table_rows, std::int64_t width, Scalar* dtable) {
  for (std::int64_t i = 0; i < count; ++i) {
    const std::int64_t row = ids[i] - first;
    if (row < 0 || row >= table_rows) continue;
    for (std::int64_t c = 0; c < width; ++c) dtable[row * width + c] += dout[i * width + c];
  }
}

#define PARM_TRANSFORMER_INSTANTIATE(S)                                                                    \
  template void layer_norm_forward<S>(const S*, std::int64_t, std::int64_t, const S*, const S*, S, S*, S*, \
                                      S*);                                                                 \
  template void layer_norm_backward<S>(const S*, const S*, std::int64_t, std::int64_t, const S*, const S*, \
                                       const S*, S*, S*, S*);                                              \
  template void attention_forward<S>(const AttentionShape&, const S*, S*, S*);                             \
  template void attention_backward<S>(const AttentionShape&, const S*, const S*, const S*, S*, S*);        \
  template S cross_entropy<S>(const S*, const std::int64_t*, std::int64_t, std::int64_t, S*);              \
  template void row_max<S>(const S*, std::int64_t, std::int64_t, S*);                                      \
  template S cross_entropy_row_loss<S>(S, S, S);                                                           \
  template void cross_entropy_parts<S>(const S*, std::int64_t, std::int64_t, std::int64_t,                 \
                                       const std::int64_t*, const S*, S*, S*);                             \
  template void cross_entropy_rows_backward<S>(const S*, std::int64_t, std::int64_t, std::int64_t,         \
                                               const std::int64_t*, const S*, const S*, S, S*);            \
  template void embedding_forward<S>(const std::int64_t*, std::int64_t, const S*, std::int64_t,            \
                                     std::int64_t, std::int64_t, S*, bool);                                \
  template void embedding_backward<S>(const std::int64_t*, std::int64_t, const S*, std::int64_t,           \
                                      std::int64_t, std::int64_t, S*);

PARM_TRANSFORMER_INSTANTIATE(float)
PARM_TRANSFORMER_INSTANTIATE(double)
#undef PARM_TRANSFORMER_INSTANTIATE

}  // namespace parm::kernels::cpu
