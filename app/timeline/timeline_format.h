// How the timeline writes durations and sizes in tooltips: units that fit the value.
#pragma once

#include <QString>
#include <cmath>
#include <cstdint>

namespace parm::app {

inline QString formatDuration(double ns) {
  const double a = std::abs(ns);
  if (a < 1e3) return QStringLiteral("%1 ns").arg(ns, 0, 'f', 0);
  if (a < 1e6) return QStringLiteral("%1 us").arg(ns / 1e3, 0, 'f', a < 1e4 ? 2 : 1);
  if (a < 1e9) return QStringLiteral("%1 ms").arg(ns / 1e6, 0, 'f', a < 1e7 ? 3 : 2);
  return QStringLiteral("%1 s").arg(ns / 1e9, 0, 'f', 3);
}

inline QString formatBytes(std::int64_t b) {
  if (b < 1024) return QStringLiteral("%1 B").arg(b);
  if (b < 1024 * 1024) return QStringLiteral("%1 B (%2 KiB)").arg(b).arg(b / 1024.0, 0, 'f', 1);
  return QStringLiteral("%1 B (%2 MiB)").arg(b).arg(b / (1024.0 * 1024.0), 0, 'f', 2);
}

}  // namespace parm::app
