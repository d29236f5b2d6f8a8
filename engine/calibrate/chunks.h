// The chunked region's overhead (pipeline degree r, issue 19): what the timeline model's per-chunk prices
// (alpha + beta n / r per call, the experts' fit on rows / r, lanes overlapping freely) miss when the
// executor runs a layer in r capacity chunks: smaller GEMMs, lane handoffs per chunk, and chunks'
// communication and compute slowing each other where they share cores or links. The config's layer runs under
// S2 at r = 1, 2, 4 and 8 on the real ranks; per degree, (measured(r) - measured(1)) - (model(r) - model(1))
// divided by the chunked calls r adds is one sample of "chunk" (n = r, t = ms per added chunked call).
#pragma once

#include <ostream>
#include <vector>

#include "engine/backend/backend.h"
#include "engine/calibrate/harness.h"
#include "engine/calibrate/measurement.h"
#include "engine/core/config.h"
#include "engine/core/rank_layout.h"

namespace parm::calibrate {

struct CalibrationOptions;

// Appends "chunk" (EP) to `fits`; needs the collectives' and the experts' fits in `fits` (the model it is the
// residual of). Opens its own communicators (the families before it have freed theirs).
void time_chunks(const Config& config, const RankLayout& layout, backend::Backend& backend,
                 const Harness& harness, const CalibrationOptions& options, double interference,
                 std::vector<Measurement>& fits, std::ostream& table);

}  // namespace parm::calibrate
