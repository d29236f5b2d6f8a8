// One training step of a whole model (Config::model, issue 18) on this rank, enqueued on the backend's three
// streams: the blocks' local ops (BlockCompute) on the compute stream, Megatron's MP collectives (the
// vocabulary-parallel embedding's and loss's, the row-parallel projections' AllReduce forward, the
// column-parallel inputs' AllReduce backward) on the intra stream, every MoE block's layer through its own
// LayerExecutor with the schedule it was given, and the data-parallel gradient sync in buckets on the
// streams of its groups while the backward goes on (DeepSpeed-MoE's groups: the dense parameters and the
// routers over the EP group, which holds the same MP slice of every MP group; with N_ESP = 1 the experts over
// the MP group, whose ranks hold the same experts). No optimizer step: the weights stay fixed, so every
// iteration computes the same thing and the step can be checked against the reference model.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/comm/communicator.h"
#include "engine/core/config.h"
#include "engine/core/model_parameters.h"
#include "engine/core/rank_layout.h"
#include "engine/run/executor.h"
#include "profiler/op_tracer.h"

namespace parm {

// One step's times from the events on the rank's streams (ms).
struct ModelStepTimes {
  double forward = 0;       // embedding through the loss
  double backward = 0;      // the loss's gradient through the embedding's
  double exposed_sync = 0;  // from the end of the backward until the last gradient bucket is reduced
  double sync = 0;          // the buckets' AllReduces summed (hidden or not)
  double iteration = 0;     // forward + backward + exposed_sync
};

template <typename T>
class ModelExecutor {
 public:
  // `schedules`: the schedule of each MoE block (model.moe_blocks() of them, in block order).
  ModelExecutor(backend::Backend& backend, const Config& config, const RankLayout& layout,
                comm::CommGroups& groups, const std::vector<ScheduleKind>& schedules,
                std::int64_t bucket_bytes = kDefaultBucketBytes);
  ~ModelExecutor();
  ModelExecutor(const ModelExecutor&) = delete;
  ModelExecutor& operator=(const ModelExecutor&) = delete;

  // Forward, loss, backward and gradient sync of this rank's MP group's batch; waits for all of it.
  ModelStepTimes step();
  // The last step's loss: the mean over every MP group's tokens (the same on every rank).
  double loss() const { return loss_; }

  // Host copies after a step, reduced as the sync leaves them: this rank's slice of every dense parameter's
  // gradient (specs() order), and each MoE block's layer (its gradients() after the sync).
  const std::vector<ParameterSpec>& specs() const { return specs_; }
  std::vector<std::vector<T>> dense_gradients() const;
  const LayerExecutor<T>& moe_layer(std::size_t moe_index) const { return *moe_[moe_index].layer; }
  std::size_t moe_layers() const { return moe_.size(); }
  const std::vector<GradientBucket>& buckets() const { return buckets_; }

  // Records the following steps' ops into `tracer` under schedule `label`, tagged with `iteration`: the
  // blocks' compute sections (op "Attention", "FFN", ..., purpose "block3"), their MP AllReduces and the
  // gradient buckets' AllReduces (group "DP"), and every MoE layer's own ops; nullptr stops tracing.
  void set_trace(profiler::OpTracer* tracer, std::int32_t iteration, const std::string& label);

 private:
  struct Block {  // one Transformer block's tensors, saved by the forward for the backward
    std::int64_t index = 0;
    std::int64_t moe = -1;  // index into moe_, -1 for a dense FFN
    backend::View<T> x, ln1, ln1_stats, qkv, probs, ctx, h, ln2, ln2_stats, a, g, z, out;
  };
  struct Moe {
    std::unique_ptr<Config> config;  // the block's layer seed; outlives the layer, which keeps a reference
    std::unique_ptr<LayerExecutor<T>> layer;
    std::int64_t block = 0;
  };

  void allocate_tensors();
  backend::AttentionDims attention_dims() const;
  backend::View<T> buffer(std::int64_t count);
  backend::View<T> weight(ModelTensor tensor, std::int64_t block = -1) const;
  backend::View<T> grad(ModelTensor tensor, std::int64_t block = -1) const;
  backend::Stream& stream(Lane lane) { return backend_.stream(lane); }
  backend::Event* record(Lane lane);
  // `to` runs what follows after what `from` has enqueued so far.
  void order(Lane from, Lane to);
  // In-place sum (or maximum) over the MP group, on the intra stream between two hand-overs.
  void mp_all_reduce(backend::View<T> values, const std::string& purpose,
                     comm::ReduceOp op = comm::ReduceOp::Sum);
  // Tracing: what the compute stream runs from here until the next span, collective or end_span() is one
  // traced op `name` with `purpose`.
  void span(const char* name, const std::string& purpose);
  void end_span();
  void trace_interval(Lane lane, backend::Event* start, backend::Event* end, const char* op,
                      const char* group, const std::string& purpose, std::int64_t bytes);
  void finish_traces();
  std::string block_purpose(std::int64_t block) const { return "block" + std::to_string(block); }

  void embedding_forward();
  void block_forward(Block& b);
  void head_forward();
  void head_backward();
  void block_backward(Block& b);
  void embedding_backward();
  // Reduces every bucket ready after backward stage `stage` (and a MoE block's router and experts).
  void sync_ready(std::int64_t stage);
  void sync_moe(Moe& moe);
  // One sum AllReduce of `parts` over `group` on `lane`, after what the compute stream enqueued so far: timed
  // into the step's sync and traced as group "DP" with `purpose`.
  void gradient_all_reduce(Lane lane, comm::GroupKind group, const std::vector<backend::View<T>>& parts,
                           const std::string& purpose);

  backend::Backend& backend_;
  backend::BlockCompute<T>& ops_;
  const Config& config_;
  RankLayout layout_;
  comm::CommGroups& transport_;
  backend::StreamGroups groups_;
  std::vector<ParameterSpec> specs_;
  std::vector<backend::Buffer<T>> weights_;  // specs_ order, this rank's slices
  std::vector<std::int64_t> grad_offset_;    // of each spec in flat_grad_
  backend::Buffer<T> flat_grad_;
  std::vector<GradientBucket> buckets_;
  std::vector<Moe> moe_;
  std::vector<std::unique_ptr<Block>> blocks_;
  std::vector<backend::Buffer<T>> pool_;
  std::vector<std::unique_ptr<backend::Event>> events_;
  std::size_t next_event_ = 0;
  std::vector<backend::Event*> sync_events_;  // this step's gradient AllReduces: (start, end) pairs
  backend::Buffer<std::int64_t> tokens_, targets_, positions_, types_;

  // Shapes: rows = S tokens of the MP group, M, the rank's heads, H / t, V_padded / t and its first id.
  std::int64_t rows_ = 0, m_ = 0, t_ = 1, local_heads_ = 0, local_ffn_ = 0, local_vocab_ = 0,
               first_vocab_ = 0;
  backend::View<T> head_in_, lnf_, lnf_stats_, mlm_a_, mlm_z_, mlm_out_, mlm_stats_, logits_, ce_max_,
      ce_parts_, loss_sum_;
  // Backward working tensors, shared by the blocks (the compute stream runs them one after another).
  backend::View<T> dx_, dh_, dtmp_, dctx_, dqkv_, dz_, da_, dg_, moe_dout_, dmlm_, dlogits_;
  double loss_ = 0;

  struct PendingTrace {
    profiler::TraceEvent event;
    backend::Event* start = nullptr;
    backend::Event* end = nullptr;
  };
  profiler::OpTracer* tracer_ = nullptr;
  std::int32_t trace_iteration_ = 0, trace_schedule_ = 0, phase_ = 0;
  std::int64_t seq_mp_ = 0, seq_dp_ = 0;
  std::vector<PendingTrace> pending_;
  struct OpenSpan {  // the compute section being traced
    backend::Event* start = nullptr;
    const char* name = "";
    std::string purpose;
  } open_span_;
};

}  // namespace parm
