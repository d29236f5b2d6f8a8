// A calibration's provenance in words: what it is (id, when, host, backend, dtype, layout, interference) and
// where it ran (transport, communication library, devices, NCCL variables, topology note) when recorded.
#pragma once

#include <QString>

#include "engine/model/calibration.h"

namespace parm::app {

// "calib-... made 2026-12-01T14:42:07Z on vm: cpu backend, fp32, P 4, G 2, MP 2, ESP 2; interference 2.62x"
QString calibrationSummary(const Calibration& c);
// One line per recorded item ("Transport: NCCL 2.28.9"); a note when the calibration recorded none.
QString calibrationEnvironment(const Calibration& c);

}  // namespace parm::app
