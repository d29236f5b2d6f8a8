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

}  // namespace parm::kernels::cpu
