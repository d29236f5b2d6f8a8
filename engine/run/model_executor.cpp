#include "engine/run/model_executor.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "engine/backend/element_type.h"
#include "engine/run/model_weights.h"

namespace parm {
namespace {

double ms_between(const backend::Backend& backend, const backend::Event& a, const backend::Event& b) {
  return 1e-6 * static_cast<double>(backend.event_time_ns(b) - backend.event_time_ns(a));
}

}  // namespace

template <typename T>
ModelExecutor<T>::ModelExecutor(backend::Backend& backend, const Config& config, const RankLayout& layout,
                                comm::CommGroups& groups, const std::vector<ScheduleKind>& schedules,
                                std::int64_t bucket_bytes)
    : backend_(backend),
      ops_(backend.blocks<T>()),
      config_(config),
      layout_(layout),
      transport_(groups),
      groups_(backend.make_groups(groups)),
      specs_(model_parameter_specs(config)) {
  const ModelConfig& model = *config.model;
  const LayerConfig& l = config.layer;
  if (static_cast<std::int64_t>(schedules.size()) != model.moe_blocks())
    throw std::invalid_argument("ModelExecutor: " + std::to_string(schedules.size()) + " schedules for " +
                                std::to_string(model.moe_blocks()) + " MoE blocks");
  t_ = layout.mp_size;
  rows_ = l.tokens();
  m_ = l.hidden;
  local_heads_ = model.heads / t_;
  local_ffn_ = l.ffn_hidden / t_;
  local_vocab_ = padded_vocabulary(config) / t_;
  first_vocab_ = layout.mp_index * local_vocab_;
  backend::Allocator& a = backend.allocator();

  for (const ParameterSpec& spec : specs_) {
    const std::vector<T> host = make_parameter<T>(spec, config.run.seed, layout.mp_index, t_);
    weights_.emplace_back(a, host.size());
    a.copy_from_host(weights_.back().data(), host.data(), host.size() * sizeof(T));
  }
  // The flat gradient in the order the backward completes it, cut into buckets at stage ends.
  GradientLayout plan = plan_gradient_buckets(specs_, model.layers, t_, sizeof(T), bucket_bytes);
  grad_offset_ = std::move(plan.offset);
  buckets_ = std::move(plan.buckets);
  const std::int64_t total = plan.elements;
  flat_grad_ = backend::Buffer<T>(a, static_cast<std::size_t>(total));

  for (std::int64_t b = 0; b < model.layers; ++b) {
    auto block = std::make_unique<Block>();
    block->index = b;
    if (model.moe_block(b)) {
      Moe moe;
      moe.config = std::make_unique<Config>(config);
      moe.config->run.seed = moe_block_seed(config.run.seed, b);
      moe.layer = std::make_unique<LayerExecutor<T>>(backend, *moe.config, layout, groups,
                                                     build_schedule(schedules[moe_.size()], config.parallel));
      moe.block = b;
      block->moe = static_cast<std::int64_t>(moe_.size());
      moe_.push_back(std::move(moe));
    }
    blocks_.push_back(std::move(block));
  }
  allocate_tensors();

  // This MP group's token ids and targets; positions and types are the same for every group.
  const std::int64_t groups_count = config.parallel.mp_groups();
  auto upload_ids = [&](std::vector<std::int64_t> ids, std::int64_t first) {
    backend::Buffer<std::int64_t> buffer(a, static_cast<std::size_t>(rows_));
    a.copy_from_host(buffer.data(), ids.data() + first,
                     static_cast<std::size_t>(rows_) * sizeof(std::int64_t));
    return buffer;
  };
  const std::int64_t first = layout.mp_group * rows_;
  tokens_ = upload_ids(make_model_tokens(config, groups_count, config.run.seed), first);
  targets_ = upload_ids(make_model_targets(config, groups_count, config.run.seed), first);
  positions_ = upload_ids(make_position_ids(l), 0);
  types_ = upload_ids(make_type_ids(l), 0);
}

template <typename T>
ModelExecutor<T>::~ModelExecutor() {
  try {
    backend_.synchronize();  // queued tasks hold views of this executor's buffers
  } catch (...) {
    // Already reported by the step that failed.
  }
}

template <typename T>
void ModelExecutor<T>::allocate_tensors() {
  const LayerConfig& l = config_.layer;
  const bool swiglu = l.activation == Activation::Swiglu;
  const std::int64_t rm = rows_ * m_, mt = m_ / t_;
  const backend::AttentionDims dims = attention_dims();
  std::vector<backend::View<T>> outputs;
  for (std::size_t b = 0; b <= blocks_.size(); ++b) outputs.push_back(buffer(rm));
  for (std::size_t b = 0; b < blocks_.size(); ++b) {
    Block& k = *blocks_[b];
    k.x = outputs[b];
    k.out = outputs[b + 1];
    k.ln1 = buffer(rm);
    k.ln1_stats = buffer(2 * rows_);
    k.qkv = buffer(rows_ * 3 * mt);
    k.probs = buffer(dims.probs());
    k.ctx = buffer(rows_ * mt);
    k.h = buffer(rm);
    k.ln2 = buffer(rm);
    k.ln2_stats = buffer(2 * rows_);
    if (k.moe < 0) {
      k.a = buffer(rows_ * local_ffn_);
      if (swiglu) k.g = buffer(rows_ * local_ffn_);
      k.z = buffer(rows_ * local_ffn_);
    }
  }
  head_in_ = outputs.back();
  lnf_ = buffer(rm);
  lnf_stats_ = buffer(2 * rows_);
  if (config_.model->style == ModelStyle::Bert) {
    mlm_a_ = buffer(rm);
    mlm_z_ = buffer(rm);
    mlm_out_ = buffer(rm);
    mlm_stats_ = buffer(2 * rows_);
  }
  logits_ = buffer(rows_ * local_vocab_);
  ce_max_ = buffer(rows_);
  ce_parts_ = buffer(2 * rows_);
  loss_sum_ = buffer(1);
  for (backend::View<T>* v : {&dx_, &dh_, &dtmp_, &moe_dout_, &dmlm_}) *v = buffer(rm);
  dctx_ = buffer(rows_ * mt);
  dqkv_ = buffer(rows_ * 3 * mt);
  for (backend::View<T>* v : {&dz_, &da_, &dg_}) *v = buffer(rows_ * local_ffn_);
  dlogits_ = buffer(rows_ * local_vocab_);
}

template <typename T>
backend::AttentionDims ModelExecutor<T>::attention_dims() const {
  const LayerConfig& l = config_.layer;
  return {l.batch, l.seq_len, local_heads_, m_ / config_.model->heads,
          config_.model->style == ModelStyle::Gpt};
}

template <typename T>
backend::View<T> ModelExecutor<T>::buffer(std::int64_t count) {
  pool_.emplace_back(backend_.allocator(), static_cast<std::size_t>(count));
  return pool_.back().view();
}

template <typename T>
backend::View<T> ModelExecutor<T>::weight(ModelTensor tensor, std::int64_t block) const {
  const int i = find_parameter(specs_, tensor, block);
  if (i < 0) return {};
  return weights_[static_cast<std::size_t>(i)].view();
}

template <typename T>
backend::View<T> ModelExecutor<T>::grad(ModelTensor tensor, std::int64_t block) const {
  const int i = find_parameter(specs_, tensor, block);
  if (i < 0) return {};
  const auto k = static_cast<std::size_t>(i);
  return flat_grad_.view().slice(grad_offset_[k], specs_[k].local_elements(t_));
}

template <typename T>
backend::Event* ModelExecutor<T>::record(Lane lane) {
  if (next_event_ == events_.size()) events_.push_back(backend_.make_event());
  backend::Event* e = events_[next_event_++].get();
  stream(lane).record(*e);
  return e;
}

template <typename T>
void ModelExecutor<T>::order(Lane from, Lane to) {
  if (from != to) stream(to).wait(*record(from));
}

template <typename T>
void ModelExecutor<T>::gradient_all_reduce(Lane lane, comm::GroupKind group,
                                           const std::vector<backend::View<T>>& parts,
                                           const std::string& purpose) {
  order(Lane::Compute, lane);
  backend::Event* start = record(lane);
  std::int64_t bytes = 0;
  for (const backend::View<T>& v : parts) {
    if (v.empty()) continue;
    groups_[group].all_reduce(stream(lane), v.data(), v.size(), backend::comm_data_type<T>(),
                              comm::ReduceOp::Sum);
    bytes += static_cast<std::int64_t>(v.size() * sizeof(T));
  }
  backend::Event* end = record(lane);
  sync_events_.insert(sync_events_.end(), {start, end});
  trace_interval(lane, start, end, "AllReduce", "DP", purpose, bytes);
}

template <typename T>
void ModelExecutor<T>::sync_ready(std::int64_t stage) {
  if (layout_.ep_size == 1) return;  // one data-parallel replica: nothing to reduce
  for (const GradientBucket& bucket : buckets_)
    if (bucket.ready_after == stage)
      gradient_all_reduce(Lane::Inter, comm::GroupKind::EP,
                          {flat_grad_.view().slice(bucket.offset, bucket.count)},
                          "gradient bucket " + std::to_string(&bucket - buckets_.data()));
}

template <typename T>
void ModelExecutor<T>::sync_moe(Moe& moe) {
  DeviceTensors<T>& g = moe.layer->device_gradients();
  const std::string purpose = block_purpose(moe.block);
  if (layout_.ep_size > 1)  // the router: one copy per MP group
    gradient_all_reduce(Lane::Inter, comm::GroupKind::EP, {g.wg.view()}, purpose + " router gradient");
  if (layout_.esp_size == 1 && t_ > 1)  // whole experts replicated over the MP group
    gradient_all_reduce(Lane::Intra, comm::GroupKind::MP,
                        {g.w1.view(), g.b1.view(), g.w3.view(), g.b3.view(), g.w2.view(), g.b2.view()},
                        purpose + " expert gradients");
}

template <typename T>
ModelStepTimes ModelExecutor<T>::step() {
  next_event_ = 0;
  sync_events_.clear();
  pending_.clear();
  phase_ = 0;
  backend::Event* start = record(Lane::Compute);
  ops_.fill_zero(stream(Lane::Compute), flat_grad_.view());
  embedding_forward();
  for (auto& b : blocks_) block_forward(*b);
  head_forward();
  end_span();
  backend::Event* forward_end = record(Lane::Compute);
  phase_ = 1;
  head_backward();
  sync_ready(0);
  for (std::size_t k = blocks_.size(); k-- > 0;) {
    block_backward(*blocks_[k]);
    sync_ready(1 + static_cast<std::int64_t>(blocks_.size() - 1 - k));
  }
  embedding_backward();
  end_span();
  sync_ready(static_cast<std::int64_t>(blocks_.size()) + 1);
  backend::Event* backward_end = record(Lane::Compute);
  order(Lane::Inter, Lane::Compute);
  order(Lane::Intra, Lane::Compute);
  backend::Event* end = record(Lane::Compute);
  backend_.synchronize();
  finish_traces();

  ModelStepTimes t;
  t.forward = ms_between(backend_, *start, *forward_end);
  t.backward = ms_between(backend_, *forward_end, *backward_end);
  t.exposed_sync = ms_between(backend_, *backward_end, *end);
  t.iteration = ms_between(backend_, *start, *end);
  for (std::size_t k = 0; k + 1 < sync_events_.size(); k += 2)
    t.sync += ms_between(backend_, *sync_events_[k], *sync_events_[k + 1]);

  T host_loss{};
  backend_.allocator().copy_to_host(&host_loss, loss_sum_.data(), sizeof(T));
  double sum = static_cast<double>(host_loss);
  transport_.ep->all_reduce(&sum, 1, comm::DataType::F64, comm::ReduceOp::Sum);
  loss_ = sum / static_cast<double>(config_.parallel.mp_groups() * rows_);
  return t;
}

template <typename T>
std::vector<std::vector<T>> ModelExecutor<T>::dense_gradients() const {
  std::vector<std::vector<T>> out;
  for (std::size_t i = 0; i < specs_.size(); ++i) {
    std::vector<T> host(static_cast<std::size_t>(specs_[i].local_elements(t_)));
    backend_.allocator().copy_to_host(host.data(), flat_grad_.data() + grad_offset_[i],
                                      host.size() * sizeof(T));
    out.push_back(std::move(host));
  }
  return out;
}

template class ModelExecutor<float>;
template class ModelExecutor<double>;

}  // namespace parm
