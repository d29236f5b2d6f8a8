#include "engine/core/model_parameters.h"

#include <cmath>
#include <stdexcept>

#include "engine/core/model_sizes.h"

namespace parm {
namespace {

constexpr const char* kTensorNames[kModelTensorCount] = {
    "token_embedding", "position_embedding", "type_embedding", "ln1_gamma",  "ln1_beta", "qkv_weight",
    "qkv_bias",        "out_weight",         "out_bias",       "ln2_gamma",  "ln2_beta", "fc1_weight",
    "fc1_bias",        "fc3_weight",         "fc3_bias",       "fc2_weight", "fc2_bias", "final_gamma",
    "final_beta",      "mlm_weight",         "mlm_bias",       "mlm_gamma",  "mlm_beta", "decoder_bias"};

double inverse_sqrt(std::int64_t fan_in) {
  return 1.0 / std::sqrt(static_cast<double>(fan_in));
}

}  // namespace

std::string ParameterSpec::name() const {
  const std::string base = kTensorNames[static_cast<int>(tensor)];
  return block < 0 ? base : "block" + std::to_string(block) + "." + base;
}

std::int64_t ParameterSpec::local_rows(std::int64_t t) const {
  return split == TensorSplit::Rows ? rows / t : rows;
}

std::int64_t ParameterSpec::local_cols(std::int64_t t) const {
  return split == TensorSplit::Columns || split == TensorSplit::QkvColumns ? cols / t : cols;
}

std::int64_t ParameterSpec::global_index(std::int64_t j, std::int64_t t, std::int64_t r,
                                         std::int64_t c) const {
  switch (split) {
    case TensorSplit::Replicated:
      return r * cols + c;
    case TensorSplit::Rows:
      return (j * (rows / t) + r) * cols + c;
    case TensorSplit::Columns:
      return r * cols + j * (cols / t) + c;
    case TensorSplit::QkvColumns: {
      const std::int64_t third = cols / 3, local_third = third / t;
      const std::int64_t which = c / local_third;  // Q, K or V
      return r * cols + which * third + j * local_third + c % local_third;
    }
  }
  throw std::logic_error("ParameterSpec::global_index: unknown split");
}

std::int64_t padded_vocabulary(const Config& config) {
  const std::int64_t multiple = kVocabPaddingMultiple * std::max<std::int64_t>(1, config.parallel.mp);
  return (config.model->vocab + multiple - 1) / multiple * multiple;
}

std::vector<ParameterSpec> model_parameter_specs(const Config& config) {
  if (!config.model) throw std::invalid_argument("model_parameter_specs: the configuration has no model");
  const ModelConfig& model = *config.model;
  const LayerConfig& l = config.layer;
  const std::int64_t m = l.hidden, h = l.ffn_hidden, v = padded_vocabulary(config);
  const bool bert = model.style == ModelStyle::Bert;
  const bool swiglu = l.activation == Activation::Swiglu;
  using S = TensorSplit;
  using MT = ModelTensor;
  std::vector<ParameterSpec> specs;
  auto add = [&](MT tensor, std::int64_t block, std::int64_t rows, std::int64_t cols, S split, double scale,
                 double offset = 0) {
    specs.push_back({tensor, block, rows, cols, split, scale, offset});
  };
  auto layer_norm = [&](MT gamma, MT beta, std::int64_t block) {
    add(gamma, block, 1, m, S::Replicated, 0.1, 1.0);
    add(beta, block, 1, m, S::Replicated, 0.1);
  };

  add(MT::TokenEmbedding, -1, v, m, S::Rows, 0.1);
  add(MT::PositionEmbedding, -1, l.seq_len, m, S::Replicated, 0.1);
  if (bert) add(MT::TypeEmbedding, -1, 2, m, S::Replicated, 0.1);
  for (std::int64_t b = 0; b < model.layers; ++b) {
    layer_norm(MT::Ln1Gamma, MT::Ln1Beta, b);
    add(MT::QkvWeight, b, m, 3 * m, S::QkvColumns, inverse_sqrt(m));
    if (l.bias) add(MT::QkvBias, b, 1, 3 * m, S::QkvColumns, 0.1);
    add(MT::OutWeight, b, m, m, S::Rows, inverse_sqrt(m));
    if (l.bias) add(MT::OutBias, b, 1, m, S::Replicated, 0.1);
    layer_norm(MT::Ln2Gamma, MT::Ln2Beta, b);
    if (model.moe_block(b)) continue;  // the MoE layer's router and experts are the layer's own
    add(MT::Fc1Weight, b, m, h, S::Columns, inverse_sqrt(m));
    if (l.bias) add(MT::Fc1Bias, b, 1, h, S::Columns, 0.1);
    if (swiglu) {
      add(MT::Fc3Weight, b, m, h, S::Columns, inverse_sqrt(m));
      if (l.bias) add(MT::Fc3Bias, b, 1, h, S::Columns, 0.1);
    }
    add(MT::Fc2Weight, b, h, m, S::Rows, inverse_sqrt(h));
    if (l.bias) add(MT::Fc2Bias, b, 1, m, S::Replicated, 0.1);
  }
  layer_norm(MT::FinalGamma, MT::FinalBeta, -1);
  if (bert) {
    add(MT::MlmWeight, -1, m, m, S::Replicated, inverse_sqrt(m));
    add(MT::MlmBias, -1, 1, m, S::Replicated, 0.1);
    layer_norm(MT::MlmGamma, MT::MlmBeta, -1);
    add(MT::DecoderBias, -1, 1, v, S::Columns, 0.1);
  }
  return specs;
}

std::int64_t gradient_ready_stage(const ParameterSpec& spec, std::int64_t layers) {
  if (spec.block >= 0) return 1 + (layers - 1 - spec.block);
  const bool embedding = spec.tensor == ModelTensor::TokenEmbedding ||
                         spec.tensor == ModelTensor::PositionEmbedding ||
                         spec.tensor == ModelTensor::TypeEmbedding;
  return embedding ? layers + 1 : 0;
}

GradientLayout plan_gradient_buckets(const std::vector<ParameterSpec>& specs, std::int64_t layers,
                                     std::int64_t t, std::int64_t element_bytes, std::int64_t bucket_bytes) {
  GradientLayout out;
  out.offset.assign(specs.size(), 0);
  GradientBucket open;
  for (std::int64_t stage = 0; stage <= layers + 1; ++stage) {
    for (std::size_t i = 0; i < specs.size(); ++i) {
      if (gradient_ready_stage(specs[i], layers) != stage) continue;
      out.offset[i] = out.elements;
      out.elements += specs[i].local_elements(t);
    }
    open.count = out.elements - open.offset;
    if (open.count > 0 && (open.count * element_bytes >= bucket_bytes || stage == layers + 1)) {
      open.ready_after = stage;
      out.buckets.push_back(open);
      open = {out.elements, 0, 0};
    }
  }
  return out;
}

int find_parameter(const std::vector<ParameterSpec>& specs, ModelTensor tensor, std::int64_t block) {
  for (std::size_t i = 0; i < specs.size(); ++i)
    if (specs[i].tensor == tensor && specs[i].block == block) return static_cast<int>(i);
  return -1;
}

}  // namespace parm
