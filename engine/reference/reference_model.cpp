#include "engine/reference/reference_model.h"

#include <algorithm>
#include <stdexcept>

#include "engine/run/model_weights.h"
#include "kernels/cpu/activation.h"
#include "kernels/cpu/blas.h"
#include "kernels/cpu/transformer.h"
#include "kernels/shared/layer_norm_math.h"

namespace parm {
namespace {

namespace k = kernels::cpu;

template <typename T>
using Tensor = std::vector<T>;

// c (m, n) = op(a) op(b) (+ c when accumulate).
template <typename T>
void mm(bool ta, bool tb, std::int64_t m, std::int64_t n, std::int64_t kk, const Tensor<T>& a,
        const Tensor<T>& b, Tensor<T>& c, bool accumulate = false) {
  c.resize(static_cast<std::size_t>(m * n));
  k::gemm(ta ? k::Trans::Yes : k::Trans::No, tb ? k::Trans::Yes : k::Trans::No, m, n, kk, T(1), a.data(),
          b.data(), accumulate ? T(1) : T(0), c.data());
}

template <typename T>
void add_bias(Tensor<T>& x, const Tensor<T>& bias) {
  const std::size_t n = bias.size();
  for (std::size_t i = 0; i < x.size(); ++i) x[i] += bias[i % n];
}

template <typename T>
void bias_grad(const Tensor<T>& dy, Tensor<T>& db) {
  const std::size_t n = db.size();
  for (std::size_t i = 0; i < dy.size(); ++i) db[i % n] += dy[i];
}

template <typename T>
Tensor<T> sum(const Tensor<T>& a, const Tensor<T>& b) {
  Tensor<T> out(a.size());
  for (std::size_t i = 0; i < a.size(); ++i) out[i] = a[i] + b[i];
  return out;
}

template <typename T>
struct Norm {
  Tensor<T> y, mean, rstd;
};

template <typename T>
Norm<T> layer_norm(const Tensor<T>& x, std::int64_t rows, std::int64_t m, const Tensor<T>& gamma,
                   const Tensor<T>& beta) {
  Norm<T> n{Tensor<T>(x.size()), Tensor<T>(static_cast<std::size_t>(rows)),
            Tensor<T>(static_cast<std::size_t>(rows))};
  k::layer_norm_forward(x.data(), rows, m, gamma.data(), beta.data(), T(kernels::shared::kLayerNormEpsilon),
                        n.y.data(), n.mean.data(), n.rstd.data());
  return n;
}

template <typename T>
Tensor<T> layer_norm_backward(const Tensor<T>& x, const Tensor<T>& dy, const Norm<T>& n, std::int64_t rows,
                              std::int64_t m, const Tensor<T>& gamma, Tensor<T>& dgamma, Tensor<T>& dbeta) {
  Tensor<T> dx(x.size());
  k::layer_norm_backward(x.data(), dy.data(), rows, m, gamma.data(), n.mean.data(), n.rstd.data(), dx.data(),
                         dgamma.data(), dbeta.data());
  return dx;
}

template <typename T>
struct BlockSaved {
  Tensor<T> x, qkv, probs, ctx, h, a, g, z;
  Norm<T> ln1, ln2;
};

// The whole model on every group's tokens as one batch of groups * B sequences.
template <typename T>
class ReferenceModel {
 public:
  explicit ReferenceModel(const Config& c)
      : model_(*c.model), layer_(c.layer), specs_(model_parameter_specs(c)) {
    groups_ = c.parallel.mp_groups();
    rows_ = groups_ * layer_.tokens();
    m_ = layer_.hidden;
    vocab_ = padded_vocabulary(c);
    for (const ParameterSpec& s : specs_) {
      weights_.push_back(make_parameter<T>(s, c.run.seed));
      grads_.emplace_back(weights_.back().size(), T(0));
    }
    for (std::int64_t b = 0; b < model_.layers; ++b)
      if (model_.moe_block(b)) moe_weights_.push_back(make_weights<T>(layer_, moe_block_seed(c.run.seed, b)));
    tokens_ = make_model_tokens(c, groups_, c.run.seed);
    targets_ = make_model_targets(c, groups_, c.run.seed);
    const std::vector<std::int64_t> pos = make_position_ids(layer_), types = make_type_ids(layer_);
    for (std::int64_t g = 0; g < groups_; ++g) {
      positions_.insert(positions_.end(), pos.begin(), pos.end());
      types_.insert(types_.end(), types.begin(), types.end());
    }
    dims_ = {groups_ * layer_.batch, layer_.seq_len, model_.heads, m_ / model_.heads,
             model_.style == ModelStyle::Gpt};
  }

  ReferenceModelResult<T> run() {
    Tensor<T> x = embed();
    std::vector<BlockSaved<T>> saved;
    std::size_t moe = 0;
    for (std::int64_t b = 0; b < model_.layers; ++b) saved.push_back(block_forward(b, x, moe));
    const double loss = head(x);
    head_backward();
    moe_grads_.resize(moe_weights_.size());
    moe = moe_weights_.size();
    for (std::int64_t b = model_.layers; b-- > 0;) block_backward(b, saved[static_cast<std::size_t>(b)], moe);
    embed_backward();
    return {loss, specs_, grads_, moe_grads_};
  }

 private:
  Tensor<T>& w(ModelTensor t, std::int64_t block = -1) { return weights_[index(t, block)]; }
  Tensor<T>& dw(ModelTensor t, std::int64_t block = -1) { return grads_[index(t, block)]; }
  std::size_t index(ModelTensor t, std::int64_t block) const {
    const int i = find_parameter(specs_, t, block);
    if (i < 0) throw std::logic_error("reference model: no parameter " + std::to_string(int(t)));
    return static_cast<std::size_t>(i);
  }
  bool bert() const { return model_.style == ModelStyle::Bert; }

  Tensor<T> embed() {
    Tensor<T> x(static_cast<std::size_t>(rows_ * m_));
    k::embedding_forward(tokens_.data(), rows_, w(ModelTensor::TokenEmbedding).data(), 0, vocab_, m_,
                         x.data(), false);
    k::embedding_forward(positions_.data(), rows_, w(ModelTensor::PositionEmbedding).data(), 0,
                         layer_.seq_len, m_, x.data(), true);
    if (bert())
      k::embedding_forward(types_.data(), rows_, w(ModelTensor::TypeEmbedding).data(), 0, 2, m_, x.data(),
                           true);
    return x;
  }

  void embed_backward() {
    k::embedding_backward(positions_.data(), rows_, dx_.data(), 0, layer_.seq_len, m_,
                          dw(ModelTensor::PositionEmbedding).data());
    if (bert())
      k::embedding_backward(types_.data(), rows_, dx_.data(), 0, 2, m_,
                            dw(ModelTensor::TypeEmbedding).data());
    k::embedding_backward(tokens_.data(), rows_, dx_.data(), 0, vocab_, m_,
                          dw(ModelTensor::TokenEmbedding).data());
  }

  BlockSaved<T> block_forward(std::int64_t b, Tensor<T>& x, std::size_t& moe) {
    using MT = ModelTensor;
    const std::int64_t h = layer_.ffn_hidden;
    BlockSaved<T> s;
    s.x = x;
    s.ln1 = layer_norm(x, rows_, m_, w(MT::Ln1Gamma, b), w(MT::Ln1Beta, b));
    mm(false, false, rows_, 3 * m_, m_, s.ln1.y, w(MT::QkvWeight, b), s.qkv);
    if (layer_.bias) add_bias(s.qkv, w(MT::QkvBias, b));
    s.probs.resize(static_cast<std::size_t>(dims_.batch * dims_.heads * dims_.seq * dims_.seq));
    s.ctx.resize(static_cast<std::size_t>(rows_ * m_));
    k::attention_forward(dims_, s.qkv.data(), s.probs.data(), s.ctx.data());
    mm(false, false, rows_, m_, m_, s.ctx, w(MT::OutWeight, b), s.h);
    if (layer_.bias) add_bias(s.h, w(MT::OutBias, b));
    s.h = sum(s.h, x);
    s.ln2 = layer_norm(s.h, rows_, m_, w(MT::Ln2Gamma, b), w(MT::Ln2Beta, b));
    Tensor<T> f;
    if (model_.moe_block(b)) {
      f = run_reference_forward(layer_, groups_, moe_weights_[moe++], s.ln2.y).out;
    } else {
      mm(false, false, rows_, h, m_, s.ln2.y, w(MT::Fc1Weight, b), s.a);
      if (layer_.bias) add_bias(s.a, w(MT::Fc1Bias, b));
      s.z.resize(s.a.size());
      if (layer_.activation == Activation::Swiglu) {
        mm(false, false, rows_, h, m_, s.ln2.y, w(MT::Fc3Weight, b), s.g);
        if (layer_.bias) add_bias(s.g, w(MT::Fc3Bias, b));
        k::swiglu_forward(s.a.data(), s.g.data(), static_cast<std::int64_t>(s.a.size()), s.z.data());
      } else {
        k::gelu_forward(s.a.data(), static_cast<std::int64_t>(s.a.size()), s.z.data());
      }
      mm(false, false, rows_, m_, h, s.z, w(MT::Fc2Weight, b), f);
      if (layer_.bias) add_bias(f, w(MT::Fc2Bias, b));
    }
    x = sum(s.h, f);
    return s;
  }

  double head(const Tensor<T>& x) {
    using MT = ModelTensor;
    head_in_ = x;
    lnf_ = layer_norm(x, rows_, m_, w(MT::FinalGamma), w(MT::FinalBeta));
    features_ = lnf_.y;
    if (bert()) {
      mm(false, false, rows_, m_, m_, lnf_.y, w(MT::MlmWeight), mlm_a_);
      add_bias(mlm_a_, w(MT::MlmBias));
      mlm_z_.resize(mlm_a_.size());
      k::gelu_forward(mlm_a_.data(), static_cast<std::int64_t>(mlm_a_.size()), mlm_z_.data());
      mlm_ = layer_norm(mlm_z_, rows_, m_, w(MT::MlmGamma), w(MT::MlmBeta));
      features_ = mlm_.y;
    }
    Tensor<T> logits;
    mm(false, true, rows_, vocab_, m_, features_, w(MT::TokenEmbedding), logits);
    if (bert()) add_bias(logits, w(MT::DecoderBias));
    dlogits_.resize(logits.size());
    const T loss = k::cross_entropy(logits.data(), targets_.data(), rows_, vocab_, dlogits_.data());
    return static_cast<double>(loss);
  }

  void head_backward() {
    using MT = ModelTensor;
    if (bert()) bias_grad(dlogits_, dw(MT::DecoderBias));
    mm(true, false, vocab_, m_, rows_, dlogits_, features_, dw(MT::TokenEmbedding), true);
    Tensor<T> d;
    mm(false, false, rows_, m_, vocab_, dlogits_, w(MT::TokenEmbedding), d);
    if (bert()) {
      Tensor<T> dz =
          layer_norm_backward(mlm_z_, d, mlm_, rows_, m_, w(MT::MlmGamma), dw(MT::MlmGamma), dw(MT::MlmBeta));
      k::gelu_backward(mlm_a_.data(), dz.data(), static_cast<std::int64_t>(dz.size()), dz.data());
      mm(true, false, m_, m_, rows_, lnf_.y, dz, dw(MT::MlmWeight), true);
      bias_grad(dz, dw(MT::MlmBias));
      mm(false, true, rows_, m_, m_, dz, w(MT::MlmWeight), d);
    }
    dx_ = layer_norm_backward(head_in_, d, lnf_, rows_, m_, w(MT::FinalGamma), dw(MT::FinalGamma),
                              dw(MT::FinalBeta));
  }

  void block_backward(std::int64_t b, const BlockSaved<T>& s, std::size_t& moe) {
    using MT = ModelTensor;
    const std::int64_t h = layer_.ffn_hidden;
    Tensor<T> dln2;
    if (model_.moe_block(b)) {
      --moe;
      ReferenceResult<T> r = run_reference_layer(layer_, groups_, moe_weights_[moe], s.ln2.y, dx_);
      dln2 = r.grads.dx;
      moe_grads_[moe] = std::move(r.grads);
    } else {
      Tensor<T> dz, da(s.a.size()), dg(s.g.size());
      mm(false, true, rows_, h, m_, dx_, w(MT::Fc2Weight, b), dz);
      mm(true, false, h, m_, rows_, s.z, dx_, dw(MT::Fc2Weight, b), true);
      if (layer_.bias) bias_grad(dx_, dw(MT::Fc2Bias, b));
      if (s.g.empty()) {
        k::gelu_backward(s.a.data(), dz.data(), static_cast<std::int64_t>(dz.size()), da.data());
      } else {
        k::swiglu_backward(s.a.data(), s.g.data(), dz.data(), static_cast<std::int64_t>(dz.size()), da.data(),
                           dg.data());
      }
      mm(true, false, m_, h, rows_, s.ln2.y, da, dw(MT::Fc1Weight, b), true);
      if (layer_.bias) bias_grad(da, dw(MT::Fc1Bias, b));
      mm(false, true, rows_, m_, h, da, w(MT::Fc1Weight, b), dln2);
      if (!s.g.empty()) {
        mm(true, false, m_, h, rows_, s.ln2.y, dg, dw(MT::Fc3Weight, b), true);
        if (layer_.bias) bias_grad(dg, dw(MT::Fc3Bias, b));
        mm(false, true, rows_, m_, h, dg, w(MT::Fc3Weight, b), dln2, true);
      }
    }
    Tensor<T> dh = sum(layer_norm_backward(s.h, dln2, s.ln2, rows_, m_, w(MT::Ln2Gamma, b),
                                           dw(MT::Ln2Gamma, b), dw(MT::Ln2Beta, b)),
                       dx_);
    mm(true, false, m_, m_, rows_, s.ctx, dh, dw(MT::OutWeight, b), true);
    if (layer_.bias) bias_grad(dh, dw(MT::OutBias, b));
    Tensor<T> dctx, dqkv(s.qkv.size()), dln1;
    mm(false, true, rows_, m_, m_, dh, w(MT::OutWeight, b), dctx);
    Tensor<T> scratch(static_cast<std::size_t>(2 * dims_.seq * dims_.seq));
    k::attention_backward(dims_, s.qkv.data(), s.probs.data(), dctx.data(), dqkv.data(), scratch.data());
    mm(true, false, m_, 3 * m_, rows_, s.ln1.y, dqkv, dw(MT::QkvWeight, b), true);
    if (layer_.bias) bias_grad(dqkv, dw(MT::QkvBias, b));
    mm(false, true, rows_, m_, 3 * m_, dqkv, w(MT::QkvWeight, b), dln1);
    dx_ = sum(layer_norm_backward(s.x, dln1, s.ln1, rows_, m_, w(MT::Ln1Gamma, b), dw(MT::Ln1Gamma, b),
                                  dw(MT::Ln1Beta, b)),
              dh);
  }

  const ModelConfig& model_;
  const LayerConfig& layer_;
  std::vector<ParameterSpec> specs_;
  std::int64_t groups_ = 1, rows_ = 0, m_ = 0, vocab_ = 0;
  k::AttentionShape dims_;
  std::vector<Tensor<T>> weights_, grads_;
  std::vector<LayerWeights<T>> moe_weights_;
  std::vector<LayerGradients<T>> moe_grads_;
  std::vector<std::int64_t> tokens_, targets_, positions_, types_;
  Tensor<T> head_in_, features_, mlm_a_, mlm_z_, dlogits_, dx_;
  Norm<T> lnf_, mlm_;
};

}  // namespace

template <typename T>
ReferenceModelResult<T> run_reference_model(const Config& config) {
  if (!config.model) throw std::invalid_argument("run_reference_model: the configuration has no model");
  return ReferenceModel<T>(config).run();
}

template ReferenceModelResult<float> run_reference_model<float>(const Config&);
template ReferenceModelResult<double> run_reference_model<double>(const Config&);

}  // namespace parm
