// What the sweep page shows instead of a heat map when there is one configuration (a heat map of it would
// be one cell): per schedule, the measured and the predicted layer time side by side as bars, in the unit
// that fits, with the measured and predicted best named in the title.
#pragma once

#include "app/compare/sweep_model.h"

class QChart;

namespace parm::app {

// Replaces everything on `chart` with the bars of `row` (measured set only when the row has measurements).
void plotScheduleBars(QChart* chart, const SweepRow& row, const QStringList& schedules);

}  // namespace parm::app
