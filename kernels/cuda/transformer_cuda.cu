#include "kernels/cuda/cuda_check.h"
#include "kernels/cuda/launch_geometry.cuh"
#include "kernels/cuda/transformer_cuda.h"
#include "kernels/shared/activation_math.h"
#include "kernels/shared/attention_math.h"
#include "kernels/shared/cross_entropy_math.h"
#include "kernels/shared/layer_norm_math.h"
#include "kernels/shared/softmax_math.h"

namespace parm::kernels::cuda {
namespace {

template <typename S>
__global__ void layer_norm_kernel(const S* x, std::int64_t rows, std::int64_t n, const S* gamma,
                                  const S* beta, S eps, S* y, S* mean, S* rstd) {
  for (std::int64_t r = global_thread(); r < rows; r += grid_threads())
    shared::layer_norm_row(x + r * n, n, gamma, beta, eps, y + r * n, mean + r, rstd + r);
}

template <typename S>
__global__ void layer_norm_input_grad_kernel(const S* x, const S* dy, std::int64_t rows, std::int64_t n,
                                             const S* gamma, const S* mean, const S* rstd, S* dx) {
  for (std::int64_t r = global_thread(); r < rows; r += grid_threads())
    shared::layer_norm_row_input_grad(x + r * n, dy + r * n, n, gamma, mean[r], rstd[r], dx + r * n);
}

template <typename S>
__global__ void layer_norm_param_grad_kernel(const S* x, const S* dy, std::int64_t rows, std::int64_t n,
                                             const S* mean, const S* rstd, S* dgamma, S* dbeta) {
  for (std::int64_t c = global_thread(); c < n; c += grid_threads()) {
    S g = 0, b = 0;
    for (std::int64_t r = 0; r < rows; ++r) {
      const S d = dy[r * n + c];
      g += d * (x[r * n + c] - mean[r]) * rstd[r];
      b += d;
    }
    dgamma[c] += g;
    dbeta[c] += b;
  }
}

// Where head h's Q, K or V row of token t starts (which: 0, 1, 2).
template <typename S>
__device__ const S* head_row(const S* qkv, const AttentionGeometry& g, std::int64_t b, std::int64_t t,
                             std::int64_t h, int which) {
  const std::int64_t w = g.heads * g.head_dim;
  return qkv + (b * g.seq + t) * 3 * w + which * w + h * g.head_dim;
}

// One thread per (sequence, head, query): its scores row, masked softmax, and its context row.
template <typename S>
__global__ void attention_forward_kernel(AttentionGeometry g, const S* qkv, S* probs, S* ctx) {
  const std::int64_t total = g.batch * g.heads * g.seq, d = g.head_dim, w = g.heads * d;
  const S scale = S(1) / sqrt(S(d));
  for (std::int64_t i = global_thread(); i < total; i += grid_threads()) {
    const std::int64_t q = i % g.seq, h = (i / g.seq) % g.heads, b = i / (g.seq * g.heads);
    S* row = probs + i * g.seq;
    const S* qr = head_row(qkv, g, b, q, h, 0);
    for (std::int64_t k = 0; k < g.seq; ++k) {
      const S* kr = head_row(qkv, g, b, k, h, 1);
      S dot = 0;
      for (std::int64_t j = 0; j < d; ++j) dot += qr[j] * kr[j];
      row[k] = dot;
    }
    shared::attention_probs_row(row, g.seq, g.causal ? q + 1 : g.seq, scale);
    S* out = ctx + (b * g.seq + q) * w + h * d;
    for (std::int64_t j = 0; j < d; ++j) out[j] = 0;
    for (std::int64_t k = 0; k < g.seq; ++k) {
      const S p = row[k];
      const S* vr = head_row(qkv, g, b, k, h, 2);
      for (std::int64_t j = 0; j < d; ++j) out[j] += p * vr[j];
    }
  }
}

// Per query: dp = dctx V^T, the softmax backward into dscores, dQ = dscores K.
template <typename S>
__global__ void attention_query_grad_kernel(AttentionGeometry g, const S* qkv, const S* probs, const S* dctx,
                                            S* dqkv, S* dscores) {
  const std::int64_t total = g.batch * g.heads * g.seq, d = g.head_dim, w = g.heads * d;
  const S scale = S(1) / sqrt(S(d));
  for (std::int64_t i = global_thread(); i < total; i += grid_threads()) {
    const std::int64_t q = i % g.seq, h = (i / g.seq) % g.heads, b = i / (g.seq * g.heads);
    const S* dc = dctx + (b * g.seq + q) * w + h * d;
    S* ds = dscores + i * g.seq;
    for (std::int64_t k = 0; k < g.seq; ++k) {
      const S* vr = head_row(qkv, g, b, k, h, 2);
      S dot = 0;
      for (std::int64_t j = 0; j < d; ++j) dot += dc[j] * vr[j];
      ds[k] = dot;
    }
    // In place (dp -> dscores): the softmax backward reads every dp before it writes.
    shared::attention_probs_row_backward(probs + i * g.seq, ds, g.seq, g.causal ? q + 1 : g.seq, scale, ds);
    S* dq = dqkv + (b * g.seq + q) * 3 * w + h * d;
    for (std::int64_t j = 0; j < d; ++j) dq[j] = 0;
    for (std::int64_t k = 0; k < g.seq; ++k) {
      const S* kr = head_row(qkv, g, b, k, h, 1);
      for (std::int64_t j = 0; j < d; ++j) dq[j] += ds[k] * kr[j];
    }
  }
}

// Per key: dK = dscores^T Q, dV = P^T dctx (queries in order).
template <typename S>
__global__ void attention_key_grad_kernel(AttentionGeometry g, const S* qkv, const S* probs, const S* dctx,
                                          S* dqkv, const S* dscores) {
  const std::int64_t total = g.batch * g.heads * g.seq, d = g.head_dim, w = g.heads * d;
  for (std::int64_t i = global_thread(); i < total; i += grid_threads()) {
    const std::int64_t k = i % g.seq, h = (i / g.seq) % g.heads, b = i / (g.seq * g.heads);
    S* dk = dqkv + (b * g.seq + k) * 3 * w + w + h * d;
    S* dv = dk + w;
    for (std::int64_t j = 0; j < d; ++j) dk[j] = dv[j] = 0;
    const std::int64_t base = (b * g.heads + h) * g.seq;
    for (std::int64_t q = 0; q < g.seq; ++q) {
      const S ds = dscores[(base + q) * g.seq + k], p = probs[(base + q) * g.seq + k];
      const S* qr = head_row(qkv, g, b, q, h, 0);
      const S* dc = dctx + (b * g.seq + q) * w + h * d;
      for (std::int64_t j = 0; j < d; ++j) {
        dk[j] += ds * qr[j];
        dv[j] += p * dc[j];
      }
    }
  }
}

template <typename S>
__global__ void add_bias_kernel(S* x, const S* bias, std::int64_t rows, std::int64_t n) {
  for (std::int64_t i = global_thread(); i < rows * n; i += grid_threads()) x[i] += bias[i % n];
}

template <typename S>
__global__ void bias_grad_kernel(const S* dy, std::int64_t rows, std::int64_t n, S* dbias) {
  for (std::int64_t c = global_thread(); c < n; c += grid_threads()) {
    S sum = 0;
    for (std::int64_t r = 0; r < rows; ++r) sum += dy[r * n + c];
    dbias[c] += sum;
  }
}

template <typename S>
__global__ void add_kernel(const S* a, const S* b, S* out, std::int64_t count) {
  for (std::int64_t i = global_thread(); i < count; i += grid_threads()) out[i] = a[i] + b[i];
}

template <typename S>
__global__ void gelu_kernel(const S* in, S* out, std::int64_t count) {
  for (std::int64_t i = global_thread(); i < count; i += grid_threads()) out[i] = shared::gelu(in[i]);
}

template <typename S>
__global__ void gelu_backward_kernel(const S* in, const S* dout, S* din, std::int64_t count) {
  for (std::int64_t i = global_thread(); i < count; i += grid_threads())
    din[i] = dout[i] * shared::gelu_derivative(in[i]);
}

template <typename S>
__global__ void swiglu_kernel(const S* a, const S* b, S* out, std::int64_t count) {
  for (std::int64_t i = global_thread(); i < count; i += grid_threads()) out[i] = shared::swiglu(a[i], b[i]);
}

template <typename S>
__global__ void swiglu_backward_kernel(const S* a, const S* b, const S* dout, S* da, S* db,
                                       std::int64_t count) {
  for (std::int64_t i = global_thread(); i < count; i += grid_threads()) {
    const shared::SwigluGrad<S> g = shared::swiglu_backward(a[i], b[i], dout[i]);
    da[i] = g.da;
    db[i] = g.db;
  }
}

template <typename S>
__global__ void embedding_kernel(const std::int64_t* ids, std::int64_t count, const S* table,
                                 std::int64_t first, std::int64_t table_rows, std::int64_t width, S* out,
                                 bool accumulate) {
  for (std::int64_t e = global_thread(); e < count * width; e += grid_threads()) {
    const std::int64_t i = e / width, c = e % width, row = ids[i] - first;
    const S v = row >= 0 && row < table_rows ? table[row * width + c] : S(0);
    out[e] = accumulate ? out[e] + v : v;
  }
}

template <typename S>
__global__ void embedding_backward_kernel(const std::int64_t* ids, std::int64_t count, const S* dout,
                                          std::int64_t first, std::int64_t table_rows, std::int64_t width,
                                          S* dtable) {
  for (std::int64_t c = global_thread(); c < width; c += grid_threads())
    for (std::int64_t i = 0; i < count; ++i) {
      const std::int64_t row = ids[i] - first;
      if (row >= 0 && row < table_rows) dtable[row * width + c] += dout[i * width + c];
    }
}

template <typename S>
__global__ void row_max_kernel(const S* logits, std::int64_t rows, std::int64_t cols, S* max) {
  for (std::int64_t r = global_thread(); r < rows; r += grid_threads())
    max[r] = shared::row_max(logits + r * cols, cols);
}

template <typename S>
__global__ void cross_entropy_parts_kernel(const S* logits, std::int64_t rows, std::int64_t cols,
                                           std::int64_t first, const std::int64_t* targets, const S* max,
                                           S* sum, S* target_logit) {
  for (std::int64_t r = global_thread(); r < rows; r += grid_threads()) {
    const S* row = logits + r * cols;
    sum[r] = shared::partial_exp_sum(row, cols, max[r]);
    target_logit[r] = shared::target_logit_part(row, first, cols, targets[r]);
  }
}

template <typename S>
__global__ void cross_entropy_backward_kernel(const S* logits, std::int64_t rows, std::int64_t cols,
                                              std::int64_t first, const std::int64_t* targets, const S* max,
                                              const S* sum, S scale, S* dlogits) {
  for (std::int64_t r = global_thread(); r < rows; r += grid_threads())
    shared::cross_entropy_row_backward(logits + r * cols, first, cols, targets[r], max[r], sum[r], scale,
                                       dlogits + r * cols);
}

template <typename S>
__global__ void cross_entropy_loss_kernel(const S* max, const S* sum, const S* target_logit,
                                          std::int64_t rows, S* loss) {
  if (global_thread() != 0) return;
  S total = 0;
  for (std::int64_t r = 0; r < rows; ++r)
    total += shared::cross_entropy_loss(max[r], sum[r], target_logit[r]);
  loss[0] = total;
}

void launched(const char* what) {
  check_status(cudaGetLastError(), what);
}

}  // namespace

template <typename S>
void layer_norm_forward(cudaStream_t stream, const S* x, std::int64_t rows, std::int64_t n, const S* gamma,
                        const S* beta, S eps, S* y, S* mean, S* rstd) {
  if (rows == 0) return;
  layer_norm_kernel<<<grid_for(rows), kThreads, 0, stream>>>(x, rows, n, gamma, beta, eps, y, mean, rstd);
  launched("layer_norm kernel");
}

template <typename S>
void layer_norm_backward(cudaStream_t stream, const S* x, const S* dy, std::int64_t rows, std::int64_t n,
                         const S* gamma, const S* mean, const S* rstd, S* dx, S* dgamma, S* dbeta) {
  if (rows == 0) return;
  layer_norm_input_grad_kernel<<<grid_for(rows), kThreads, 0, stream>>>(x, dy, rows, n, gamma, mean, rstd,
                                                                        dx);
  launched("layer_norm input-gradient kernel");
  layer_norm_param_grad_kernel<<<grid_for(n), kThreads, 0, stream>>>(x, dy, rows, n, mean, rstd, dgamma,
                                                                     dbeta);
  launched("layer_norm parameter-gradient kernel");
}

template <typename S>
void attention_forward(cudaStream_t stream, const AttentionGeometry& g, const S* qkv, S* probs, S* ctx) {
  const std::int64_t n = g.batch * g.heads * g.seq;
  if (n == 0) return;
  attention_forward_kernel<<<grid_for(n), kThreads, 0, stream>>>(g, qkv, probs, ctx);
  launched("attention kernel");
}

template <typename S>
void attention_backward(cudaStream_t stream, const AttentionGeometry& g, const S* qkv, const S* probs,
                        const S* dctx, S* dqkv, S* dscores) {
  const std::int64_t n = g.batch * g.heads * g.seq;
  if (n == 0) return;
  attention_query_grad_kernel<<<grid_for(n), kThreads, 0, stream>>>(g, qkv, probs, dctx, dqkv, dscores);
  launched("attention query-gradient kernel");
  attention_key_grad_kernel<<<grid_for(n), kThreads, 0, stream>>>(g, qkv, probs, dctx, dqkv, dscores);
  launched("attention key-gradient kernel");
}

template <typename S>
void add_bias_rows(cudaStream_t stream, S* x, const S* bias, std::int64_t rows, std::int64_t n) {
  if (rows * n == 0) return;
  add_bias_kernel<<<grid_for(rows * n), kThreads, 0, stream>>>(x, bias, rows, n);
  launched("bias kernel");
}

template <typename S>
void bias_grad_rows(cudaStream_t stream, const S* dy, std::int64_t rows, std::int64_t n, S* dbias) {
  if (n == 0) return;
  bias_grad_kernel<<<grid_for(n), kThreads, 0, stream>>>(dy, rows, n, dbias);
  launched("bias-gradient kernel");
}

template <typename S>
void add(cudaStream_t stream, const S* a, const S* b, S* out, std::int64_t count) {
  if (count == 0) return;
  add_kernel<<<grid_for(count), kThreads, 0, stream>>>(a, b, out, count);
  launched("add kernel");
}

template <typename S>
void gelu_forward(cudaStream_t stream, const S* in, S* out, std::int64_t count) {
  if (count == 0) return;
  gelu_kernel<<<grid_for(count), kThreads, 0, stream>>>(in, out, count);
  launched("gelu kernel");
}

template <typename S>
void gelu_backward(cudaStream_t stream, const S* in, const S* dout, S* din, std::int64_t count) {
  if (count == 0) return;
  gelu_backward_kernel<<<grid_for(count), kThreads, 0, stream>>>(in, dout, din, count);
  launched("gelu backward kernel");
}

template <typename S>
void swiglu_forward(cudaStream_t stream, const S* a, const S* b, S* out, std::int64_t count) {
  if (count == 0) return;
  swiglu_kernel<<<grid_for(count), kThreads, 0, stream>>>(a, b, out, count);
  launched("swiglu kernel");
}

template <typename S>
void swiglu_backward(cudaStream_t stream, const S* a, const S* b, const S* dout, S* da, S* db,
                     std::int64_t count) {
  if (count == 0) return;
  swiglu_backward_kernel<<<grid_for(count), kThreads, 0, stream>>>(a, b, dout, da, db, count);
  launched("swiglu backward kernel");
}

template <typename S>
void embedding_forward(cudaStream_t stream, const std::int64_t* ids, std::int64_t count, const S* table,
                       std::int64_t first, std::int64_t table_rows, std::int64_t width, S* out,
                       bool accumulate) {
  if (count * width == 0) return;
  embedding_kernel<<<grid_for(count * width), kThreads, 0, stream>>>(ids, count, table, first, table_rows,
                                                                     width, out, accumulate);
  launched("embedding kernel");
}

template <typename S>
void embedding_backward(cudaStream_t stream, const std::int64_t* ids, std::int64_t count, const S* dout,
                        std::int64_t first, std::int64_t table_rows, std::int64_t width, S* dtable) {
  if (width == 0) return;
  embedding_backward_kernel<<<grid_for(width), kThreads, 0, stream>>>(ids, count, dout, first, table_rows,
                                                                      width, dtable);
  launched("embedding backward kernel");
}

template <typename S>
void row_max(cudaStream_t stream, const S* logits, std::int64_t rows, std::int64_t cols, S* max) {
  if (rows == 0) return;
  row_max_kernel<<<grid_for(rows), kThreads, 0, stream>>>(logits, rows, cols, max);
  launched("row max kernel");
}

template <typename S>
void cross_entropy_parts(cudaStream_t stream, const S* logits, std::int64_t rows, std::int64_t cols,
                         std::int64_t first, const std::int64_t* targets, const S* max, S* sum,
                         S* target_logit) {
  if (rows == 0) return;
  cross_entropy_parts_kernel<<<grid_for(rows), kThreads, 0, stream>>>(logits, rows, cols, first, targets, max,
                                                                      sum, target_logit);
  launched("cross entropy kernel");
}

template <typename S>
void cross_entropy_backward(cudaStream_t stream, const S* logits, std::int64_t rows, std::int64_t cols,
                            std::int64_t first, const std::int64_t* targets, const S* max, const S* sum,
                            S scale, S* dlogits) {
  if (rows == 0) return;
  cross_entropy_backward_kernel<<<grid_for(rows), kThreads, 0, stream>>>(logits, rows, cols, first, targets,
                                                                         max, sum, scale, dlogits);
  launched("cross entropy backward kernel");
}

template <typename S>
void cross_entropy_loss(cudaStream_t stream, const S* max, const S* sum, const S* target_logit,
                        std::int64_t rows, S* loss) {
  cross_entropy_loss_kernel<<<1, 1, 0, stream>>>(max, sum, target_logit, rows, loss);
  launched("cross entropy loss kernel");
}

#define PARM_TRANSFORMER_CUDA(S)                                                                            \
  template void layer_norm_forward<S>(cudaStream_t, const S*, std::int64_t, std::int64_t, const S*,         \
                                      const S*, S, S*, S*, S*);                                             \
  template void layer_norm_backward<S>(cudaStream_t, const S*, const S*, std::int64_t, std::int64_t,        \
                                       const S*, const S*, const S*, S*, S*, S*);                           \
  template void attention_forward<S>(cudaStream_t, const AttentionGeometry&, const S*, S*, S*);             \
  template void attention_backward<S>(cudaStream_t, const AttentionGeometry&, const S*, const S*, const S*, \
                                      S*, S*);                                                              \
  template void add_bias_rows<S>(cudaStream_t, S*, const S*, std::int64_t, std::int64_t);                   \
  template void bias_grad_rows<S>(cudaStream_t, const S*, std::int64_t, std::int64_t, S*);                  \
  template void add<S>(cudaStream_t, const S*, const S*, S*, std::int64_t);                                 \
  template void gelu_forward<S>(cudaStream_t, const S*, S*, std::int64_t);                                  \
  template void gelu_backward<S>(cudaStream_t, const S*, const S*, S*, std::int64_t);                       \
  template void swiglu_forward<S>(cudaStream_t, const S*, const S*, S*, std::int64_t);                      \
  template void swiglu_backward<S>(cudaStream_t, const S*, const S*, const S*, S*, S*, std::int64_t);       \
  template void embedding_forward<S>(cudaStream_t, const std::int64_t*, std::int64_t, const S*,             \
                                     std::int64_t, std::int64_t, std::int64_t, S*, bool);                   \
  template void embedding_backward<S>(cudaStream_t, const std::int64_t*, std::int64_t, const S*,            \
                                      std::int64_t, std::int64_t, std::int64_t, S*);                        \
  template void row_max<S>(cudaStream_t, const S*, std::int64_t, std::int64_t, S*);                         \
  template void cross_entropy_parts<S>(cudaStream_t, const S*, std::int64_t, std::int64_t, std::int64_t,    \
                                       const std::int64_t*, const S*, S*, S*);                              \
  template void cross_entropy_backward<S>(cudaStream_t, const S*, std::int64_t, std::int64_t, std::int64_t, \
                                          const std::int64_t*, const S*, const S*, S, S*);                  \
  template void cross_entropy_loss<S>(cudaStream_t, const S*, const S*, const S*, std::int64_t, S*);
PARM_TRANSFORMER_CUDA(float)
PARM_TRANSFORMER_CUDA(double)
#undef PARM_TRANSFORMER_CUDA

}  // namespace parm::kernels::cuda
