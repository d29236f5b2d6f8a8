#include "engine/model/model_prediction.h"

#include <algorithm>
#include <stdexcept>

#include "engine/core/model_parameters.h"
#include "engine/core/sizes.h"
#include "engine/model/cost_model.h"
#include "engine/model/timeline_model.h"

namespace parm {
namespace {

class ModelCost {
 public:
  ModelCost(const Config& c, const Calibration& calib) : c_(c), calib_(calib) {
    const LayerConfig& l = c.layer;
    t_ = std::max<std::int64_t>(1, c.parallel.mp);
    rows_ = double(l.tokens());
    m_ = double(l.hidden);
    mt_ = m_ / double(t_);
    ht_ = double(l.ffn_hidden) / double(t_);
    vt_ = double(padded_vocabulary(c)) / double(t_);
    b_ = double(bytes_per_element(l.dtype));
    heads_ = double(c.model->heads) / double(t_);
    attention_macs_ =
        double(l.batch) * heads_ * double(l.seq_len) * double(l.seq_len) * (m_ / double(c.model->heads));
    if (t_ > 1) p_ = calib.comm_params();
  }

  double fit(const char* op, double n) const {
    const CalibrationFit* f = calib_.find(op);
    if (!f)
      throw std::runtime_error(std::string("the calibration has no '") + op +
                               "' fit: calibrate on the model's configuration (parm calibrate CONFIG)");
    return std::max(0.0, f->fit.alpha + f->fit.beta * n);
  }
  double gemm(double macs) const { return fit("gemm", macs); }
  double el(double n) const { return fit("elementwise", n); }
  double el_bwd(double n) const { return fit("elementwise_bwd", n); }
  double ln() const { return fit("layernorm", rows_ * m_); }
  double ln_bwd() const { return fit("layernorm_bwd", rows_ * m_); }
  // One MP AllReduce of `elements` values.
  double tp(double elements) const {
    return t_ > 1 ? collective_ms(p_, Collective::AllReduce, t_, std::int64_t(elements * b_)) : 0.0;
  }
  // One EP AllReduce of `bytes` over the data-parallel replicas.
  double dp(double bytes) const {
    const std::int64_t w = c_.parallel.mp_groups();
    if (w <= 1) return 0.0;
    const CalibrationFit* f = calib_.find("allreduce", "EP");
    if (!f)
      throw std::runtime_error(
          "the calibration has no 'allreduce' fit on EP (the gradient sync): recalibrate with this version");
    return f->fit.alpha + f->fit.beta * bytes;  // measured on this group: n = the buffer's bytes
  }
  double mp_sync(double bytes) const {  // the experts' sync over the MP group (N_ESP = 1)
    return t_ > 1 ? collective_ms(p_, Collective::AllReduce, t_, std::int64_t(bytes)) : 0.0;
  }

  const Config& c_;
  const Calibration& calib_;
  CommCostParams p_{};
  std::int64_t t_ = 1;
  double rows_ = 0, m_ = 0, mt_ = 0, ht_ = 0, vt_ = 0, b_ = 4, heads_ = 1, attention_macs_ = 0;
};

// Appends a step's intervals: compute sections on the compute lane, tensor-parallel AllReduces on the intra
// lane, one after another (the compute waits for each AllReduce, as the executor's stream order does).
struct Lanes {
  explicit Lanes(std::vector<PredictedInterval>& out) : v(out) {}
  void add(Lane lane, const char* name, const char* group, const std::string& purpose, double ms) {
    if (ms <= 0) return;
    v.push_back(
        PredictedInterval{phase, 0, std::string(name), std::string(group), purpose, lane, -1, 0, t, t + ms});
    t += ms;
  }
  void compute(const char* name, const std::string& purpose, double ms) {
    add(Lane::Compute, name, "-", purpose, ms);
  }
  void tp(const std::string& purpose, double ms) { add(Lane::Intra, "AllReduce", "TP", purpose, ms); }

  std::vector<PredictedInterval>& v;
  int phase = 0;
  double t = 0;
};

}  // namespace

ModelPrediction predict_model(const Config& c, const Calibration& calib, ScheduleKind kind) {
  if (!c.model) throw std::invalid_argument("predict_model: the configuration has no model");
  const ModelConfig& model = *c.model;
  const LayerConfig& l = c.layer;
  const ModelCost k(c, calib);
  const double rows = k.rows_, m = k.m_, mt = k.mt_, ht = k.ht_, vt = k.vt_;
  const bool bert = model.style == ModelStyle::Bert, swiglu = l.activation == Activation::Swiglu;
  const double gemms = swiglu ? 3.0 : 2.0;
  ModelPrediction out;
  out.kind = kind;

  const DerivedSizes sizes = derive_sizes(c);
  const TimelinePrediction layer = predict_timeline(c, sizes, calib, kind);
  const double layer_comm = std::max(0.0, layer.layer_ms - layer.compute_ms);

  // The attention part of a block (both LayerNorms and the residuals belong to it).
  const double attn_fwd = k.ln() + k.gemm(rows * m * 3 * mt) + k.el(rows * 3 * mt) +
                          k.fit("attention", k.attention_macs_) + k.gemm(rows * mt * m) + k.el(2 * rows * m) +
                          k.ln();
  const double attn_bwd = k.ln_bwd() + k.el(rows * m) + 2 * k.gemm(rows * mt * m) + k.el(rows * m) +
                          k.fit("attention_bwd", k.attention_macs_) + 2 * k.gemm(rows * m * 3 * mt) +
                          k.el(rows * 3 * mt) + k.ln_bwd() + k.el(rows * m);
  const double ffn_fwd = k.fit("experts", rows * m * ht * gemms) + k.el(2 * rows * m);
  const double ffn_bwd = k.fit("experts_bwd", rows * m * ht * gemms);
  const double tp_block = k.tp(rows * m);
  const double embed_fwd = 2 * k.el(rows * m) + k.tp(rows * m), embed_bwd = 3 * k.el(rows * m);
  double head_fwd = k.ln() + k.gemm(rows * m * vt) + 3 * k.el(rows * vt) + 2 * k.tp(rows);
  double head_bwd = 2 * k.el(rows * vt) + 2 * k.gemm(rows * vt * m) + k.tp(rows * m) + k.ln_bwd();
  if (bert) {
    head_fwd += k.gemm(rows * m * m) + 2 * k.el(rows * m) + k.ln();
    head_bwd += k.ln_bwd() + k.el_bwd(rows * m) + 2 * k.gemm(rows * m * m) + k.el(rows * m);
  }

  // The step as intervals on the lanes, in the executor's order: the forward block by block, then the
  // backward's stages (each completing the gradients plan_gradient_buckets cuts into buckets).
  Lanes lanes(out.intervals);
  lanes.phase = 0;
  lanes.compute("Embedding", "embedding", embed_fwd - k.tp(rows * m));
  lanes.tp("embedding", k.tp(rows * m));
  const auto layer_intervals = [&](int phase, const std::string& block) {
    const double base = phase == 0 ? 0.0 : layer.forward_ms;
    for (PredictedInterval v : layer.intervals) {
      if (v.phase != phase) continue;
      v.purpose = block + " " + v.purpose;
      v.start_ms += lanes.t - base;
      v.end_ms += lanes.t - base;
      out.intervals.push_back(std::move(v));
    }
    lanes.t += phase == 0 ? layer.forward_ms : layer.backward_ms;
  };
  for (std::int64_t b = 0; b < model.layers; ++b) {
    const std::string block = "block" + std::to_string(b);
    lanes.compute("Attention", block, attn_fwd);
    lanes.tp(block + " attention", tp_block);
    if (model.moe_block(b)) {
      layer_intervals(0, block);
      lanes.compute("Residual", block, k.el(rows * m));
    } else {
      lanes.compute("FFN", block, ffn_fwd);
      lanes.tp(block + " ffn", tp_block);
    }
  }
  lanes.compute("Head", "head", head_fwd - 2 * k.tp(rows));
  lanes.tp("loss max", k.tp(rows));
  lanes.tp("loss sums", k.tp(rows));
  out.forward_ms = lanes.t;

  lanes.phase = 1;
  const double backward_start = lanes.t;
  std::vector<double> stage_end;  // backward time at the end of each stage
  lanes.compute("Loss", "head", head_bwd - k.tp(rows * m));
  lanes.tp("head input", k.tp(rows * m));
  stage_end.push_back(lanes.t - backward_start);
  std::vector<std::pair<double, double>> moe_syncs;  // (issue time, ms) of the routers' and experts' syncs
  std::vector<std::string> moe_sync_names;
  for (std::int64_t b = model.layers; b-- > 0;) {
    const bool moe = model.moe_block(b);
    const std::string block = "block" + std::to_string(b);
    if (moe) {
      lanes.compute("Residual", block, k.el(rows * m));
      layer_intervals(1, block);
      moe_syncs.push_back({lanes.t - backward_start, k.dp(m * double(l.num_experts) * k.b_)});
      moe_sync_names.push_back(block + " router gradient");
      if (c.parallel.esp == 1 && k.t_ > 1) {
        moe_syncs.push_back({lanes.t - backward_start, k.mp_sync(double(sizes.local_experts) * gemms * m *
                                                                 double(l.ffn_hidden) * k.b_)});
        moe_sync_names.push_back(block + " expert gradients");
      }
    } else {
      lanes.compute("FFN", block, ffn_bwd);
      lanes.tp(block + " ffn", tp_block);
    }
    lanes.compute("Attention", block, attn_bwd);
    lanes.tp(block + " attention", tp_block);
    stage_end.push_back(lanes.t - backward_start);
    out.attention_ms += attn_fwd + attn_bwd;
    if (moe) {
      out.moe_ms += layer.layer_ms;
      out.moe_comm_ms += layer_comm;
    } else {
      out.dense_ffn_ms += ffn_fwd + ffn_bwd;
    }
    out.tensor_parallel_ms += (moe ? 2 : 4) * tp_block;
  }
  lanes.compute("Embedding", "embedding", embed_bwd);
  stage_end.push_back(lanes.t - backward_start);
  const double bwd = lanes.t - backward_start;
  out.backward_ms = bwd;
  out.head_ms = embed_fwd + embed_bwd + head_fwd + head_bwd;
  out.tensor_parallel_ms += k.tp(rows * m) * 2 + 2 * k.tp(rows);

  // The sync: buckets in order on the inter lane, each once its stage has ended and the lane is free; the
  // MoE blocks' syncs as they are issued.
  const GradientLayout grads = plan_gradient_buckets(model_parameter_specs(c), model.layers, k.t_,
                                                     bytes_per_element(l.dtype), kDefaultBucketBytes);
  struct Sync {
    double issued, ms;
    std::string purpose;
    Lane lane;
  };
  std::vector<Sync> work;
  for (std::size_t i = 0; i < moe_syncs.size(); ++i)
    work.push_back({moe_syncs[i].first, moe_syncs[i].second, moe_sync_names[i],
                    moe_sync_names[i].find("expert") != std::string::npos ? Lane::Intra : Lane::Inter});
  for (std::size_t i = 0; i < grads.buckets.size(); ++i)
    work.push_back({stage_end[static_cast<std::size_t>(grads.buckets[i].ready_after)],
                    k.dp(double(grads.buckets[i].count) * k.b_), "gradient bucket " + std::to_string(i),
                    Lane::Inter});
  std::stable_sort(work.begin(), work.end(),
                   [](const Sync& a, const Sync& b) { return a.issued < b.issued; });
  double free = 0;  // one queue for the sync (the inter lane carries all but the experts')
  for (const Sync& w : work) {
    if (w.ms <= 0) continue;
    const double start = std::max(free, w.issued);
    free = start + w.ms;
    out.sync_ms += w.ms;
    PredictedInterval v;
    v.phase = 1;
    v.name = "AllReduce";
    v.group = "DP";
    v.purpose = w.purpose;
    v.lane = w.lane;
    v.start_ms = backward_start + start;
    v.end_ms = backward_start + free;
    out.intervals.push_back(std::move(v));
  }
  out.exposed_sync_ms = std::max(0.0, free - bwd);
  out.iteration_ms = out.forward_ms + out.backward_ms + out.exposed_sync_ms;
  return out;
}

}  // namespace parm
