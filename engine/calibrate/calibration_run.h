// One calibration on this rank, every op family in order (collectives, sync overheads, the fused pipeline,
// then compute), with the nccl-tests-style table and the Calibration it fits. Collective over the world:
// every rank calls it with its own layout.
#pragma once

#include <cstdint>
#include <string>

#include "engine/calibrate/harness.h"
#include "engine/comm/mpi_world.h"
#include "engine/core/config.h"
#include "engine/core/rank_layout.h"
#include "engine/model/calibration.h"

namespace parm::calibrate {

struct CalibrationOptions {
  SweepOptions sweep;
  std::string cluster;               // the emulated cluster it runs on (recorded), or empty: local ranks
  std::int64_t timeout_ms = 60'000;  // bound on every collective wait
};

struct CalibrationOutcome {
  Calibration calibration;  // the fitted ops, with id and time (not the host)
  std::string table;        // every family's table and fit lines
};

CalibrationOutcome run_calibration(const Config& config, const RankLayout& layout,
                                   const comm::MpiWorld& world, const CalibrationOptions& options);

}  // namespace parm::calibrate
