// The compute op families of a calibration, each timed on every rank as the executor runs it: the expert
// GEMM, the experts op (each local expert's FFN forward and backward with the packing copies), local copies,
// and gate, order (dispatch) and combine over token counts, all through the backend's Compute ops.
#pragma once

#include <ostream>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/calibrate/harness.h"
#include "engine/calibrate/measurement.h"
#include "engine/core/config.h"

namespace parm::calibrate {

// Appends the fits "gemm", "experts", "experts_bwd", "copy", "gate", "order", "combine" (local) to `fits`
// and their tables to `table`, in the layer's dtype.
void time_compute(const Config& config, backend::Backend& backend, const Harness& harness,
                  std::vector<Measurement>& fits, std::ostream& table);

}  // namespace parm::calibrate
