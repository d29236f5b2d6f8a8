#include "app/calibration/calibration_units.h"

#include <cmath>

#include "engine/model/bus_bandwidth.h"

namespace parm::app {

TimeUnit timeUnitFor(double largestMs) {
  const double a = std::abs(largestMs);
  if (a < 1e-3) return {QStringLiteral("ns"), 1e6};
  if (a < 1) return {QStringLiteral("us"), 1e3};
  if (a < 1e3) return {QStringLiteral("ms"), 1};
  return {QStringLiteral("s"), 1e-3};
}

QString sizeUnitOf(const CalibrationFit& fit) {
  if (bus_collective_of(fit.op)) return QStringLiteral("B");
  if (fit.op.rfind("gemm", 0) == 0) return QStringLiteral("MAC");
  return QStringLiteral("elements");
}

QString formatSize(double bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  double v = bytes;
  while (std::abs(v) >= 1024 && u < 4) v /= 1024, ++u;
  const bool whole = std::abs(v - std::round(v)) < 1e-9;
  return QStringLiteral("%1 %2").arg(v, 0, 'f', whole ? 0 : 1).arg(QLatin1String(units[u]));
}

}  // namespace parm::app
