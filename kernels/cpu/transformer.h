// The Transformer blocks around the MoE layer on the cpu (issue 18): LayerNorm over rows, multi-head scaled
// dot-product attention (bidirectional or causal) and the cross-entropy loss, forward and backward,
// fp32/fp64. The per-row math is kernels/shared (layer_norm_math.h, attention_math.h, cross_entropy_math.h),
// which the cuda kernels run too; the GEMMs are OpenBLAS. Tensors are row-major; T = batch * seq_len token
// rows.
#pragma once

#include <cstdint>

namespace parm::kernels::cpu {

// y (rows, n) = LayerNorm(x) with gamma, beta (n); mean and rstd (rows) are saved for the backward.
template <typename Scalar>
void layer_norm_forward(const Scalar* x, std::int64_t rows, std::int64_t n, const Scalar* gamma,
                        const Scalar* beta, Scalar eps, Scalar* y, Scalar* mean, Scalar* rstd);

// dx (OVERWRITE), dgamma and dbeta (ACCUMULATE, n each) from dy.
template <typename Scalar>
void layer_norm_backward(const Scalar* x, const Scalar* dy, std::int64_t rows, std::int64_t n,
                         const Scalar* gamma, const Scalar* mean, const Scalar* rstd, Scalar* dx,
                         Scalar* dgamma, Scalar* dbeta);

// The attention of `heads` heads of head_dim d over `batch` sequences of `seq` tokens.
struct AttentionShape {
  std::int64_t batch = 1;
  std::int64_t seq = 1;
  std::int64_t heads = 1;
  std::int64_t head_dim = 1;
  bool causal = false;  // GPT: query q sees keys 0..q; BERT: every key

  std::int64_t tokens() const { return batch * seq; }
  std::int64_t width() const { return heads * head_dim; }
};

// qkv (T, 3 * heads * d): the Q of every head, then the K, then the V (head h at columns h * d of each);
// ctx (T, heads * d) = softmax(Q K^T / sqrt(d), masked) V per sequence and head; probs (batch, heads, seq,
// seq) is saved for the backward.
template <typename Scalar>
void attention_forward(const AttentionShape& shape, const Scalar* qkv, Scalar* probs, Scalar* ctx);

// dqkv (T, 3 * heads * d, OVERWRITE) from dctx (T, heads * d). `scratch` holds 2 * seq * seq values.
template <typename Scalar>
void attention_backward(const AttentionShape& shape, const Scalar* qkv, const Scalar* probs,
                        const Scalar* dctx, Scalar* dqkv, Scalar* scratch);

// The mean cross entropy of `rows` tokens' logits (rows, vocab) against targets (rows, in [0, vocab));
// dlogits (OVERWRITE) is its gradient. Refuses a target outside the vocabulary (std::out_of_range).
template <typename Scalar>
Scalar cross_entropy(const Scalar* logits, const std::int64_t* targets, std::int64_t rows, std::int64_t vocab,
                     Scalar* dlogits);

// The vocabulary-parallel loss's pieces over this rank's logits (rows, cols) of vocabulary [first,
// first + cols), kernels/shared/cross_entropy_math.h: the row maxima; the partial exp sums and target logits
// at the group's maxima; the gradient (OVERWRITE) at the group's maxima and sums.
template <typename Scalar>
void row_max(const Scalar* logits, std::int64_t rows, std::int64_t cols, Scalar* max);
template <typename Scalar>
void cross_entropy_parts(const Scalar* logits, std::int64_t rows, std::int64_t cols, std::int64_t first,
                         const std::int64_t* targets, const Scalar* max, Scalar* sum, Scalar* target_logit);
template <typename Scalar>
void cross_entropy_rows_backward(const Scalar* logits, std::int64_t rows, std::int64_t cols,
                                 std::int64_t first, const std::int64_t* targets, const Scalar* max,
                                 const Scalar* sum, Scalar scale, Scalar* dlogits);

// One row's loss from the group's max, exp sum and target logit: log(sum) + max - target_logit.
template <typename Scalar>
Scalar cross_entropy_row_loss(Scalar max, Scalar sum, Scalar target_logit);

// out (count, width) = table row (id - first) for ids in [first, first + table_rows), else 0; added to out
// when `accumulate`.
template <typename Scalar>
void embedding_forward(const std::int64_t* ids, std::int64_t count, const Scalar* table, std::int64_t first,
                       std::int64_t table_rows, std::int64_t width, Scalar* out, bool accumulate);
// dtable (ACCUMULATE) row (id - first) += dout's row for the ids the table holds.
template <typename Scalar>
void embedding_backward(const std::int64_t* ids, std::int64_t count, const Scalar* dout, std::int64_t first,
                        std::int64_t table_rows, std::int64_t width, Scalar* dtable);

}  // namespace parm::kernels::cpu
