// Units that fit a calibration's numbers: a time axis or column in ns, us, ms or s by its largest value, and
// the unit of a fit's size n (bytes for collectives; multiply-adds or elements for compute).
#pragma once

#include <QString>

#include "engine/model/calibration.h"

namespace parm::app {

struct TimeUnit {
  QString name;      // "us"
  double perMs = 1;  // how many of it one ms holds (1000 for us)
};

// The unit in which `largestMs` reads between 1 and 1000 (ns below 1 us, s from 1000 ms).
TimeUnit timeUnitFor(double largestMs);

// What a fit's n counts: "B" for collectives, "MAC" for gemm, "elements" otherwise.
QString sizeUnitOf(const CalibrationFit& fit);

// A byte count in units that fit ("64 KiB", "16 MiB", "512 B").
QString formatSize(double bytes);

}  // namespace parm::app
