// The single-process reference of a whole model (issue 18): every MP group's batch through the whole model
// with unsplit tensors on one device (kernels/cpu), the MoE blocks through the reference layer. A distributed
// step (engine/run/model_executor.h) is checked against it: its loss and, after the gradient sync, every
// rank's slice of every gradient.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/core/config.h"
#include "engine/core/model_parameters.h"
#include "engine/reference/reference_layer.h"

namespace parm {

template <typename T>
struct ReferenceModelResult {
  double loss = 0;                           // mean cross entropy over every group's tokens
  std::vector<ParameterSpec> specs;          // model_parameter_specs(config)
  std::vector<std::vector<T>> dense_grads;   // global gradient of each spec
  std::vector<LayerGradients<T>> moe_grads;  // each MoE block's router and experts (dx: the layer's input)
};

// `config` is the distributed run's (its N_MP pads the vocabulary, its N_EP MP groups are the batch).
template <typename T>
ReferenceModelResult<T> run_reference_model(const Config& config);

}  // namespace parm
