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

// The dtype the layer's compute is measured in: the layer's, or fp32 where the backend has no compute in
// it (the cpu backend has no 16-bit compute).
DType compute_dtype(DType layer, backend::Backend& backend);

// Appends the fits "gemm", "experts", "experts_bwd", "copy", "gate", "order", "combine" (local) to `fits`
// and their tables to `table`, in compute_dtype. On a GPU backend also the GEMM at each other dtype of
// fp32, bf16 and fp16 ("gemm_bf16", ...) and the experts op at the other 16-bit dtype ("experts_fp16",
// "experts_bwd_fp16"; bf16 for an fp32 layer).
void time_compute(const Config& config, backend::Backend& backend, const Harness& harness,
                  std::vector<Measurement>& fits, std::ostream& table);

}  // namespace parm::calibrate
