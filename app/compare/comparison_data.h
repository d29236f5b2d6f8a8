// Everything the Compare page shows about one measured run, read in one pass on a worker (no widget is
// touched): the per-schedule comparison, the measured per-op intervals (with each collective's wait) and
// predicted per-op times, the verdict and the time breakdown. The run's events are read once.
#pragma once

#include <QString>
#include <map>
#include <vector>

#include "engine/model/model_blocks.h"
#include "engine/model/run_comparison.h"
#include "engine/model/time_breakdown.h"
#include "engine/model/verdict.h"

namespace parm::app {

struct ComparisonData {
  QString error;  // one line; empty on success
  parm::RunComparison comparison;
  parm::MeasuredOps measured;
  std::map<parm::OpKey, double> predicted;
  parm::Verdict verdict;
  std::vector<parm::ScheduleBreakdown> breakdowns;
  std::vector<parm::ModelBlockTimes> blocks;  // a whole-model run's blocks; empty for a layer run
};

ComparisonData loadComparisonData(const QString& dbPath, qint64 measuredRun);

}  // namespace parm::app
