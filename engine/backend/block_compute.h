// The local ops of the Transformer blocks around the MoE layer (issue 18), as a backend implements them:
// enqueued on a stream, on device views, never waiting; the model executor (engine/run/model_executor.h)
// composes them with the MP and data-parallel collectives. Tensors are row-major token rows (T, width).
// Gradients marked ACCUMULATE add into what the caller zeroed once per iteration.
#pragma once

#include <cstdint>

#include "engine/backend/buffer.h"
#include "engine/backend/stream.h"

namespace parm::backend {

// `heads` heads of head_dim d over `batch` sequences of `seq` tokens.
struct AttentionDims {
  std::int64_t batch = 1, seq = 1, heads = 1, head_dim = 1;
  bool causal = false;

  std::int64_t tokens() const { return batch * seq; }
  std::int64_t width() const { return heads * head_dim; }
  std::int64_t probs() const { return batch * heads * seq * seq; }
};

template <typename T>
class BlockCompute {
 public:
  virtual ~BlockCompute() = default;

  // c (m, n) = op(a) * op(b), plus c when `accumulate`; op(a) is (m, k), op(b) (k, n); a is stored (k, m)
  // when trans_a, b (n, k) when trans_b.
  virtual void matmul(Stream& s, View<const T> a, bool trans_a, View<const T> b, bool trans_b, std::int64_t m,
                      std::int64_t n, std::int64_t k, View<T> c, bool accumulate) = 0;
  // x (rows, n) += bias (n) on every row.
  virtual void add_bias(Stream& s, View<T> x, View<const T> bias, std::int64_t rows, std::int64_t n) = 0;
  // dbias (n) ACCUMULATE the column sums of dy (rows, n).
  virtual void bias_grad(Stream& s, View<const T> dy, std::int64_t rows, std::int64_t n, View<T> dbias) = 0;
  // out = a + b (elementwise; out may alias either).
  virtual void add(Stream& s, View<const T> a, View<const T> b, View<T> out) = 0;
  virtual void fill_zero(Stream& s, View<T> x) = 0;

  virtual void gelu_forward(Stream& s, View<const T> in, View<T> out) = 0;
  // din (OVERWRITE) from dout at the forward's input `in`.
  virtual void gelu_backward(Stream& s, View<const T> in, View<const T> dout, View<T> din) = 0;
  // out = silu(a) * b, SwiGLU's product of the two input projections.
  virtual void swiglu_forward(Stream& s, View<const T> a, View<const T> b, View<T> out) = 0;
  virtual void swiglu_backward(Stream& s, View<const T> a, View<const T> b, View<const T> dout, View<T> da,
                               View<T> db) = 0;

  // y (rows, n) = LayerNorm(x) * gamma + beta; mean and rstd (rows) saved for the backward.
  virtual void layer_norm_forward(Stream& s, View<const T> x, std::int64_t rows, std::int64_t n,
                                  View<const T> gamma, View<const T> beta, View<T> y, View<T> mean,
                                  View<T> rstd) = 0;
  // dx OVERWRITE, dgamma and dbeta ACCUMULATE.
  virtual void layer_norm_backward(Stream& s, View<const T> x, View<const T> dy, std::int64_t rows,
                                   std::int64_t n, View<const T> gamma, View<const T> mean,
                                   View<const T> rstd, View<T> dx, View<T> dgamma, View<T> dbeta) = 0;

  // ctx (T, heads*d) from qkv (T, 3*heads*d: [Q | K | V]); probs (dims.probs()) saved.
  virtual void attention_forward(Stream& s, const AttentionDims& dims, View<const T> qkv, View<T> probs,
                                 View<T> ctx) = 0;
  // dqkv OVERWRITE.
  virtual void attention_backward(Stream& s, const AttentionDims& dims, View<const T> qkv,
                                  View<const T> probs, View<const T> dctx, View<T> dqkv) = 0;

  // out (ids, width) = table row (id - first) for the ids in [first, first + table rows), 0 for the others
  // (a vocabulary-parallel slice); added to out when `accumulate`.
  virtual void embedding_forward(Stream& s, View<const std::int64_t> ids, View<const T> table,
                                 std::int64_t first, std::int64_t width, View<T> out, bool accumulate) = 0;
  // dtable ACCUMULATE: row (id - first) += dout's row, for the ids the slice holds.
  virtual void embedding_backward(Stream& s, View<const std::int64_t> ids, View<const T> dout,
                                  std::int64_t first, std::int64_t width, View<T> dtable) = 0;

  // The vocabulary-parallel cross entropy's pieces (kernels/shared/cross_entropy_math.h) over logits
  // (rows, cols) holding vocabulary [first, first + cols): the row maxima; then, once the group agreed on
  // them, the partial sums of exp(logit - max) and the target logits' parts; then the gradient.
  virtual void row_max(Stream& s, View<const T> logits, std::int64_t rows, std::int64_t cols,
                       View<T> max) = 0;
  virtual void cross_entropy_parts(Stream& s, View<const T> logits, std::int64_t rows, std::int64_t cols,
                                   std::int64_t first, View<const std::int64_t> targets, View<const T> max,
                                   View<T> sum, View<T> target_logit) = 0;
  // dlogits OVERWRITE = scale * (softmax - onehot(target)).
  virtual void cross_entropy_backward(Stream& s, View<const T> logits, std::int64_t rows, std::int64_t cols,
                                      std::int64_t first, View<const std::int64_t> targets, View<const T> max,
                                      View<const T> sum, T scale, View<T> dlogits) = 0;
  // loss (1) = sum over rows of log(sum) + max - target_logit (the caller divides).
  virtual void cross_entropy_loss(Stream& s, View<const T> max, View<const T> sum, View<const T> target_logit,
                                  std::int64_t rows, View<T> loss) = 0;
};

}  // namespace parm::backend
