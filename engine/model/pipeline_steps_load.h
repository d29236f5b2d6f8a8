// A stored run's fused-pipeline stage-steps, read for pipeline_steps.h: the traced ones (events) and the
// predicted ones (predictions, stored by `parm validate --db` against the measured run it predicts), with
// the configuration that ran, so the schedules' pipelines and W = N_EP are the ones the executor ran.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "db/database.h"
#include "engine/core/config.h"
#include "engine/model/pipeline_steps.h"

namespace parm {

struct StoredSteps {
  std::int64_t run = 0;  // the measured run the samples come from
  Config config;         // the configuration that ran
  std::int64_t steps = 0;
  std::vector<StepSample> measured;
  std::vector<StepSample> predicted;
  std::vector<std::string> schedules;  // the run's schedules that have fused pipelines, in its order
};

// `run`: a measured run, or a validation run of one layer (its measured run); nullopt: the newest complete
// validation run, else the newest complete measured run. Throws db::DbError (file, missing run) or
// std::runtime_error, one line each: a calibration or prediction run, a validation of several layers (naming
// their measured runs), a configuration that cannot be read.
StoredSteps load_stored_steps(const db::Database& db, std::optional<std::int64_t> run);

// The step timeline of `schedule` in `stored` (pipeline_steps.h), its op lists built for the run's layout.
// Throws std::runtime_error naming an unknown schedule.
StepTimeline stored_step_timeline(const StoredSteps& stored, const std::string& schedule);

}  // namespace parm
