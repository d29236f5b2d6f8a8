// A whole-model run's measured time per block and part (issue 18), from the per-op times of
// aggregate_measured_ops (per schedule, phase, op and purpose: the slowest rank's summed duration per
// iteration, median): the rows the GUI shows collapsible, one per embedding, Transformer block, head and
// gradient sync, each with its parts (the blocks' compute sections, the MoE layer's ops, the tensor-parallel
// AllReduces, the gradient AllReduces), forward and backward summed, in ms per step for every schedule. A
// model run's traced purposes say where each op belongs ("block3", "block3 dispatch", "block3 attention",
// "embedding", "head", "loss max", "gradient bucket 0"); a layer run has none, and gives no rows.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/model/run_comparison.h"

namespace parm {

struct ModelPartTimes {
  std::string part;                  // "Attention", "MoE layer", "TP AllReduce", "gradient sync", ...
  std::map<std::string, double> ms;  // per schedule, ms per step (busy time: parts on other lanes overlap)
};

struct ModelBlockTimes {
  std::string block;                 // "embedding", "block0", ..., "head", "gradient sync"
  std::map<std::string, double> ms;  // the parts summed
  std::vector<ModelPartTimes> parts;
};

// In model order: embedding, block0 ... blockN (by number), head, gradient sync. Empty for a layer run.
std::vector<ModelBlockTimes> model_block_times(const std::map<OpKey, double>& aggregated);

}  // namespace parm
