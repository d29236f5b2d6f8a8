// Predicted timelines into the project database's predictions table. A prediction is stored against a run: a
// run of kind "prediction" (`parm predict --db`) or the measured run it predicts (`parm validate --db`), so
// the GUI overlays measured and predicted intervals of one run. Rows are rank 0's (the model is
// rank-symmetric), iteration 0, times in ns from the start of the schedule's iteration.
#pragma once

#include <cstdint>
#include <vector>

#include "db/database.h"
#include "engine/model/timeline_model.h"

namespace parm {

void store_predicted_intervals(db::Database& db, std::int64_t run,
                               const std::vector<TimelinePrediction>& timelines);

}  // namespace parm
