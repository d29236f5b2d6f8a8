// The Transformer blocks' kernels on CUDA (issue 18), fp32 and fp64, on the per-row math of kernels/shared
// that the cpu kernels run (layer_norm_math.h, attention_math.h, cross_entropy_math.h, activation_math.h):
// simple kernels, one thread per row or per output element, deterministic (no atomics: every sum is one
// thread's loop in a fixed order). The GEMMs around them are cuBLAS (gemm.h). Row-major tensors; host API.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

namespace parm::kernels::cuda {

struct AttentionGeometry {
  std::int64_t batch = 1, seq = 1, heads = 1, head_dim = 1;
  bool causal = false;
};

template <typename S>
void layer_norm_forward(cudaStream_t stream, const S* x, std::int64_t rows, std::int64_t n, const S* gamma,
                        const S* beta, S eps, S* y, S* mean, S* rstd);
// dx OVERWRITE, dgamma and dbeta ACCUMULATE (one thread per column sums the rows in order).
template <typename S>
void layer_norm_backward(cudaStream_t stream, const S* x, const S* dy, std::int64_t rows, std::int64_t n,
                         const S* gamma, const S* mean, const S* rstd, S* dx, S* dgamma, S* dbeta);

// qkv (T, 3 W) [Q | K | V], W = heads * d; probs (batch, heads, seq, seq); ctx (T, W).
template <typename S>
void attention_forward(cudaStream_t stream, const AttentionGeometry& g, const S* qkv, S* probs, S* ctx);
// dqkv (T, 3 W) OVERWRITE; dscores: scratch of batch * heads * seq * seq values.
template <typename S>
void attention_backward(cudaStream_t stream, const AttentionGeometry& g, const S* qkv, const S* probs,
                        const S* dctx, S* dqkv, S* dscores);

template <typename S>
void add_bias_rows(cudaStream_t stream, S* x, const S* bias, std::int64_t rows, std::int64_t n);
// dbias ACCUMULATE the column sums of dy.
template <typename S>
void bias_grad_rows(cudaStream_t stream, const S* dy, std::int64_t rows, std::int64_t n, S* dbias);
template <typename S>
void add(cudaStream_t stream, const S* a, const S* b, S* out, std::int64_t count);
template <typename S>
void gelu_forward(cudaStream_t stream, const S* in, S* out, std::int64_t count);
template <typename S>
void gelu_backward(cudaStream_t stream, const S* in, const S* dout, S* din, std::int64_t count);
template <typename S>
void swiglu_forward(cudaStream_t stream, const S* a, const S* b, S* out, std::int64_t count);
template <typename S>
void swiglu_backward(cudaStream_t stream, const S* a, const S* b, const S* dout, S* da, S* db,
                     std::int64_t count);

// out (count, width) = table row (id - first) for ids the table's `table_rows` hold, else 0 (added when
// `accumulate`); the backward adds dout's rows into dtable (one thread per column, ids in order).
template <typename S>
void embedding_forward(cudaStream_t stream, const std::int64_t* ids, std::int64_t count, const S* table,
                       std::int64_t first, std::int64_t table_rows, std::int64_t width, S* out,
                       bool accumulate);
template <typename S>
void embedding_backward(cudaStream_t stream, const std::int64_t* ids, std::int64_t count, const S* dout,
                        std::int64_t first, std::int64_t table_rows, std::int64_t width, S* dtable);

template <typename S>
void row_max(cudaStream_t stream, const S* logits, std::int64_t rows, std::int64_t cols, S* max);
template <typename S>
void cross_entropy_parts(cudaStream_t stream, const S* logits, std::int64_t rows, std::int64_t cols,
                         std::int64_t first, const std::int64_t* targets, const S* max, S* sum,
                         S* target_logit);
template <typename S>
void cross_entropy_backward(cudaStream_t stream, const S* logits, std::int64_t rows, std::int64_t cols,
                            std::int64_t first, const std::int64_t* targets, const S* max, const S* sum,
                            S scale, S* dlogits);
// loss[0] = sum over rows of log(sum) + max - target_logit (one thread, rows in order).
template <typename S>
void cross_entropy_loss(cudaStream_t stream, const S* max, const S* sum, const S* target_logit,
                        std::int64_t rows, S* loss);

}  // namespace parm::kernels::cuda
