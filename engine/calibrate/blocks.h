// The Transformer blocks' compute families (issue 18), timed on every rank through the backend's
// BlockCompute ops at the model's shapes, for a configuration with a `model` section: attention forward and
// backward (n = B * heads/N_MP * L * L * d multiply-adds of one rank's heads, the batch swept), LayerNorm
// forward and backward (n = rows * M elements) and the elementwise ops (GELU forward and backward, n =
// elements). The blocks' GEMMs are priced with the "gemm" fit; the model's prediction
// (engine/model/model_prediction.h) reads these.
#pragma once

#include <ostream>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/calibrate/harness.h"
#include "engine/calibrate/measurement.h"
#include "engine/core/config.h"

namespace parm::calibrate {

// Appends "attention", "attention_bwd", "layernorm", "layernorm_bwd", "elementwise", "elementwise_bwd"
// (local) when config.model is set and the backend has the blocks (fp32 or fp64); otherwise one table line
// says why they were not measured.
void time_blocks(const Config& config, backend::Backend& backend, const Harness& harness,
                 std::vector<Measurement>& fits, std::ostream& table);

}  // namespace parm::calibrate
