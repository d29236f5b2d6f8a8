// ModelExecutor's blocks, forward and backward, as Megatron-LM splits them over the MP group: the
// vocabulary-parallel embedding (each rank looks up the ids its slice holds, an AllReduce sums), attention
// with column-parallel QKV (whole heads per rank) and a row-parallel output projection (AllReduce of the
// partial sums, then the replicated bias), the dense FFN the same way, and the vocabulary-parallel loss (the
// row maxima, exp sums and target logits agreed by three small AllReduces). The backward mirrors it: the
// row-parallel AllReduce's gradient is the identity, the column-parallel input's gradient is summed.
#include "engine/run/model_executor.h"

namespace parm {
namespace {

template <typename T>
backend::View<T> first_half(backend::View<T> stats, std::int64_t rows) {
  return stats.slice(0, rows);
}
template <typename T>
backend::View<T> second_half(backend::View<T> stats, std::int64_t rows) {
  return stats.slice(rows, rows);
}

}  // namespace

template <typename T>
void ModelExecutor<T>::embedding_forward() {
  backend::Stream& c = stream(Lane::Compute);
  const backend::View<T> x0 = blocks_.front()->x;
  span("Embedding", "embedding");
  ops_.embedding_forward(c, tokens_.view(), weight(ModelTensor::TokenEmbedding), first_vocab_, m_, x0, false);
  mp_all_reduce(x0, "embedding");
  span("Embedding", "embedding");
  ops_.embedding_forward(c, positions_.view(), weight(ModelTensor::PositionEmbedding), 0, m_, x0, true);
  if (config_.model->style == ModelStyle::Bert)
    ops_.embedding_forward(c, types_.view(), weight(ModelTensor::TypeEmbedding), 0, m_, x0, true);
}

template <typename T>
void ModelExecutor<T>::block_forward(Block& b) {
  using MT = ModelTensor;
  backend::Stream& c = stream(Lane::Compute);
  const std::int64_t i = b.index, mt = m_ / t_, q = 3 * mt, hl = local_ffn_;
  const bool bias = config_.layer.bias;
  const std::string purpose = block_purpose(i);
  span("Attention", purpose);
  ops_.layer_norm_forward(c, b.x, rows_, m_, weight(MT::Ln1Gamma, i), weight(MT::Ln1Beta, i), b.ln1,
                          first_half(b.ln1_stats, rows_), second_half(b.ln1_stats, rows_));
  ops_.matmul(c, b.ln1, false, weight(MT::QkvWeight, i), false, rows_, q, m_, b.qkv, false);
  if (bias) ops_.add_bias(c, b.qkv, weight(MT::QkvBias, i), rows_, q);
  ops_.attention_forward(c, attention_dims(), b.qkv, b.probs, b.ctx);
  ops_.matmul(c, b.ctx, false, weight(MT::OutWeight, i), false, rows_, m_, mt, b.h, false);
  mp_all_reduce(b.h, purpose + " attention");
  span("Residual+LN", purpose);
  if (bias) ops_.add_bias(c, b.h, weight(MT::OutBias, i), rows_, m_);
  ops_.add(c, b.h, b.x, b.h);
  ops_.layer_norm_forward(c, b.h, rows_, m_, weight(MT::Ln2Gamma, i), weight(MT::Ln2Beta, i), b.ln2,
                          first_half(b.ln2_stats, rows_), second_half(b.ln2_stats, rows_));
  if (b.moe >= 0) {
    end_span();
    const auto pass = moe_[static_cast<std::size_t>(b.moe)].layer->enqueue_forward(
        b.ln2, record(Lane::Compute), Lane::Compute);
    if (pass.lane != Lane::Compute) c.wait(*pass.event);
    span("Residual", purpose);
    ops_.add(c, b.h, pass.result, b.out);
    return;
  }
  span("FFN", purpose);
  ops_.matmul(c, b.ln2, false, weight(MT::Fc1Weight, i), false, rows_, hl, m_, b.a, false);
  if (bias) ops_.add_bias(c, b.a, weight(MT::Fc1Bias, i), rows_, hl);
  if (b.g.empty()) {
    ops_.gelu_forward(c, b.a, b.z);
  } else {
    ops_.matmul(c, b.ln2, false, weight(MT::Fc3Weight, i), false, rows_, hl, m_, b.g, false);
    if (bias) ops_.add_bias(c, b.g, weight(MT::Fc3Bias, i), rows_, hl);
    ops_.swiglu_forward(c, b.a, b.g, b.z);
  }
  ops_.matmul(c, b.z, false, weight(MT::Fc2Weight, i), false, rows_, m_, hl, b.out, false);
  mp_all_reduce(b.out, purpose + " ffn");
  span("Residual", purpose);
  if (bias) ops_.add_bias(c, b.out, weight(MT::Fc2Bias, i), rows_, m_);
  ops_.add(c, b.out, b.h, b.out);
}

template <typename T>
void ModelExecutor<T>::head_forward() {
  using MT = ModelTensor;
  backend::Stream& c = stream(Lane::Compute);
  span("Head", "head");
  ops_.layer_norm_forward(c, head_in_, rows_, m_, weight(MT::FinalGamma), weight(MT::FinalBeta), lnf_,
                          first_half(lnf_stats_, rows_), second_half(lnf_stats_, rows_));
  backend::View<T> features = lnf_;
  const bool bert = config_.model->style == ModelStyle::Bert;
  if (bert) {
    ops_.matmul(c, lnf_, false, weight(MT::MlmWeight), false, rows_, m_, m_, mlm_a_, false);
    ops_.add_bias(c, mlm_a_, weight(MT::MlmBias), rows_, m_);
    ops_.gelu_forward(c, mlm_a_, mlm_z_);
    ops_.layer_norm_forward(c, mlm_z_, rows_, m_, weight(MT::MlmGamma), weight(MT::MlmBeta), mlm_out_,
                            first_half(mlm_stats_, rows_), second_half(mlm_stats_, rows_));
    features = mlm_out_;
  }
  // The output projection is the token embedding's slice, transposed (tied weights).
  ops_.matmul(c, features, false, weight(MT::TokenEmbedding), true, rows_, local_vocab_, m_, logits_, false);
  if (bert) ops_.add_bias(c, logits_, weight(MT::DecoderBias), rows_, local_vocab_);
  ops_.row_max(c, logits_, rows_, local_vocab_, ce_max_);
  mp_all_reduce(ce_max_, "loss max", comm::ReduceOp::Max);
  span("Loss", "head");
  ops_.cross_entropy_parts(c, logits_, rows_, local_vocab_, first_vocab_, targets_.view(), ce_max_,
                           first_half(ce_parts_, rows_), second_half(ce_parts_, rows_));
  mp_all_reduce(ce_parts_, "loss sums");
  span("Loss", "head");
  ops_.cross_entropy_loss(c, ce_max_, first_half(ce_parts_, rows_), second_half(ce_parts_, rows_), rows_,
                          loss_sum_);
}

template <typename T>
void ModelExecutor<T>::head_backward() {
  using MT = ModelTensor;
  backend::Stream& c = stream(Lane::Compute);
  const bool bert = config_.model->style == ModelStyle::Bert;
  // The step's loss is the mean over every MP group's tokens.
  const T scale = T(1) / static_cast<T>(config_.parallel.mp_groups() * rows_);
  span("Loss", "head");
  ops_.cross_entropy_backward(c, logits_, rows_, local_vocab_, first_vocab_, targets_.view(), ce_max_,
                              first_half(ce_parts_, rows_), scale, dlogits_);
  if (bert) ops_.bias_grad(c, dlogits_, rows_, local_vocab_, grad(MT::DecoderBias));
  const backend::View<T> features = bert ? mlm_out_ : lnf_;
  ops_.matmul(c, dlogits_, true, features, false, local_vocab_, m_, rows_, grad(MT::TokenEmbedding), true);
  ops_.matmul(c, dlogits_, false, weight(MT::TokenEmbedding), false, rows_, m_, local_vocab_, dmlm_, false);
  mp_all_reduce(dmlm_, "head input");
  span("Head", "head");
  if (bert) {
    ops_.layer_norm_backward(c, mlm_z_, dmlm_, rows_, m_, weight(MT::MlmGamma), first_half(mlm_stats_, rows_),
                             second_half(mlm_stats_, rows_), dtmp_, grad(MT::MlmGamma), grad(MT::MlmBeta));
    ops_.gelu_backward(c, mlm_a_, dtmp_, dtmp_);
    ops_.matmul(c, lnf_, true, dtmp_, false, m_, m_, rows_, grad(MT::MlmWeight), true);
    ops_.bias_grad(c, dtmp_, rows_, m_, grad(MT::MlmBias));
    ops_.matmul(c, dtmp_, false, weight(MT::MlmWeight), true, rows_, m_, m_, dmlm_, false);
  }
  ops_.layer_norm_backward(c, head_in_, dmlm_, rows_, m_, weight(MT::FinalGamma),
                           first_half(lnf_stats_, rows_), second_half(lnf_stats_, rows_), dx_,
                           grad(MT::FinalGamma), grad(MT::FinalBeta));
}

template <typename T>
void ModelExecutor<T>::block_backward(Block& b) {
  using MT = ModelTensor;
  backend::Stream& c = stream(Lane::Compute);
  const std::int64_t i = b.index, mt = m_ / t_, q = 3 * mt, hl = local_ffn_;
  const bool bias = config_.layer.bias;
  // dx_ holds the gradient of the block's output; it reaches the FFN and, through the residual, h.
  backend::View<T> dln2 = dtmp_;
  const std::string purpose = block_purpose(i);
  if (b.moe >= 0) {
    Moe& moe = moe_[static_cast<std::size_t>(b.moe)];
    span("Residual", purpose);
    backend_.compute<T>().copy(c, dx_, moe_dout_);  // the layer's backward may work in place on its input
    end_span();
    const auto pass = moe.layer->enqueue_backward(moe_dout_, record(Lane::Compute), Lane::Compute);
    if (pass.lane != Lane::Compute) c.wait(*pass.event);
    dln2 = pass.result;
    sync_moe(moe);
  } else {
    span("FFN", purpose);
    ops_.matmul(c, dx_, false, weight(MT::Fc2Weight, i), true, rows_, hl, m_, dz_, false);
    ops_.matmul(c, b.z, true, dx_, false, hl, m_, rows_, grad(MT::Fc2Weight, i), true);
    if (bias) ops_.bias_grad(c, dx_, rows_, m_, grad(MT::Fc2Bias, i));
    if (b.g.empty()) {
      ops_.gelu_backward(c, b.a, dz_, da_);
    } else {
      ops_.swiglu_backward(c, b.a, b.g, dz_, da_, dg_);
    }
    ops_.matmul(c, b.ln2, true, da_, false, m_, hl, rows_, grad(MT::Fc1Weight, i), true);
    if (bias) ops_.bias_grad(c, da_, rows_, hl, grad(MT::Fc1Bias, i));
    ops_.matmul(c, da_, false, weight(MT::Fc1Weight, i), true, rows_, m_, hl, dtmp_, false);
    if (!b.g.empty()) {
      ops_.matmul(c, b.ln2, true, dg_, false, m_, hl, rows_, grad(MT::Fc3Weight, i), true);
      if (bias) ops_.bias_grad(c, dg_, rows_, hl, grad(MT::Fc3Bias, i));
      ops_.matmul(c, dg_, false, weight(MT::Fc3Weight, i), true, rows_, m_, hl, dtmp_, true);
    }
    mp_all_reduce(dtmp_, purpose + " ffn");
  }
  span("Residual+LN", purpose);
  ops_.layer_norm_backward(c, b.h, dln2, rows_, m_, weight(MT::Ln2Gamma, i), first_half(b.ln2_stats, rows_),
                           second_half(b.ln2_stats, rows_), dh_, grad(MT::Ln2Gamma, i), grad(MT::Ln2Beta, i));
  ops_.add(c, dh_, dx_, dh_);
  span("Attention", purpose);
  ops_.matmul(c, b.ctx, true, dh_, false, mt, m_, rows_, grad(MT::OutWeight, i), true);
  if (bias) ops_.bias_grad(c, dh_, rows_, m_, grad(MT::OutBias, i));
  ops_.matmul(c, dh_, false, weight(MT::OutWeight, i), true, rows_, mt, m_, dctx_, false);
  ops_.attention_backward(c, attention_dims(), b.qkv, b.probs, dctx_, dqkv_);
  ops_.matmul(c, b.ln1, true, dqkv_, false, m_, q, rows_, grad(MT::QkvWeight, i), true);
  if (bias) ops_.bias_grad(c, dqkv_, rows_, q, grad(MT::QkvBias, i));
  ops_.matmul(c, dqkv_, false, weight(MT::QkvWeight, i), true, rows_, m_, q, dtmp_, false);
  mp_all_reduce(dtmp_, purpose + " attention");
  span("Residual+LN", purpose);
  ops_.layer_norm_backward(c, b.x, dtmp_, rows_, m_, weight(MT::Ln1Gamma, i), first_half(b.ln1_stats, rows_),
                           second_half(b.ln1_stats, rows_), dx_, grad(MT::Ln1Gamma, i), grad(MT::Ln1Beta, i));
  ops_.add(c, dx_, dh_, dx_);
}

template <typename T>
void ModelExecutor<T>::embedding_backward() {
  backend::Stream& c = stream(Lane::Compute);
  span("Embedding", "embedding");
  ops_.embedding_backward(c, positions_.view(), dx_, 0, m_, grad(ModelTensor::PositionEmbedding));
  if (config_.model->style == ModelStyle::Bert)
    ops_.embedding_backward(c, types_.view(), dx_, 0, m_, grad(ModelTensor::TypeEmbedding));
  ops_.embedding_backward(c, tokens_.view(), dx_, first_vocab_, m_, grad(ModelTensor::TokenEmbedding));
}

#define PARM_MODEL_BLOCKS(T)                              \
  template void ModelExecutor<T>::embedding_forward();    \
  template void ModelExecutor<T>::block_forward(Block&);  \
  template void ModelExecutor<T>::head_forward();         \
  template void ModelExecutor<T>::head_backward();        \
  template void ModelExecutor<T>::block_backward(Block&); \
  template void ModelExecutor<T>::embedding_backward();
PARM_MODEL_BLOCKS(float)
PARM_MODEL_BLOCKS(double)
#undef PARM_MODEL_BLOCKS

}  // namespace parm
