// The predicted training step of a whole model (issue 18, item 5) from a calibration: per schedule (every MoE
// block on it) the blocks' compute from the calibration's compute fits (the GEMMs: "gemm"; a dense FFN: the
// FFN op "experts"/"experts_bwd" at H/N_MP; "attention", "layernorm", "elementwise" and their backward fits
// of `parm calibrate` on a model config), the tensor-parallel AllReduces (the MP "allreduce" fit), each MoE
// layer's forward and backward from the layer's timeline model, and the data-parallel gradient sync: the
// buckets of plan_gradient_buckets, each AllReduce (the EP "allreduce" fit) starting when the backward has
// passed its stage and the lane is free, so what is left after the backward is the exposed sync. Not
// modelled: the buckets' contention with the MoE layers' AlltoAlls on the inter lane (FIFO), which delays
// whichever was enqueued later.
#pragma once

#include <string>
#include <vector>

#include "engine/core/config.h"
#include "engine/model/calibration.h"
#include "engine/model/timeline_model.h"

namespace parm {

struct ModelPrediction {
  ScheduleKind kind = ScheduleKind::B_DS;
  double forward_ms = 0;       // embedding through the loss
  double backward_ms = 0;      // the backward's compute and its tensor-parallel AllReduces
  double exposed_sync_ms = 0;  // gradient sync still running when the backward ends
  double sync_ms = 0;          // every gradient AllReduce (hidden or not)
  double iteration_ms = 0;     // forward + backward + exposed sync (what `parm run --model` measures)
  // Where the time goes, both passes: the attention part (LayerNorms, QKV, attention, output projection,
  // residuals), the dense FFNs, the MoE layers (the layer's whole timeline), the tensor-parallel AllReduces,
  // the embedding, head and loss.
  double attention_ms = 0, dense_ffn_ms = 0, moe_ms = 0, tensor_parallel_ms = 0, head_ms = 0;
  double moe_comm_ms = 0;  // of moe_ms: the layers' exposed communication (layer time minus its compute)
  // The step on the lanes, named as the model run traces it ("Attention" / "block3", "AllReduce" TP
  // "block3 attention", the MoE layers' own ops with purposes "block3 dispatch", ..., "AllReduce" DP
  // "gradient bucket 0"), the backward after the forward: what `parm validate --model --db` stores beside
  // the measured run.
  std::vector<PredictedInterval> intervals;
};

// Throws std::runtime_error naming a fit the calibration lacks ("the calibration has no 'attention' fit:
// calibrate on the model's configuration"). Requires a validated config with a model.
ModelPrediction predict_model(const Config& config, const Calibration& calib, ScheduleKind kind);

}  // namespace parm
