// The plot of one calibration fit on a QChart: the measured samples (median time per size) as a scatter and
// the fitted line t = alpha + beta * n through them, on a log-scaled size axis (the sweep multiplies sizes;
// the series' x is log2(n), labelled with sizes that read, "64 KiB") and a linear time axis in the unit that
// fits the largest time; alpha, beta and r2 in the title. Series names: "samples" and "alpha + beta * n".
#pragma once

#include <QString>

#include "engine/model/calibration.h"

class QChart;

namespace parm::app {

// Replaces everything on `chart`. A fit without samples shows its line over a default range and says so.
void plotFit(QChart* chart, const CalibrationFit& fit);
// An empty chart with `title` (nothing selected, or a failed load).
void clearFitPlot(QChart* chart, const QString& title);

// The number of points the fitted line is drawn with (log-spaced between the smallest and largest size).
inline constexpr int kFitLinePoints = 64;

}  // namespace parm::app
