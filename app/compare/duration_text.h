// How the Compare page writes a duration given in ms: the unit that fits (ns, us, ms, s) with 3 significant
// digits, so a microsecond op never prints as 0.000; "-" for a value that is absent.
#pragma once

#include <QString>
#include <cmath>
#include <optional>

namespace parm::app {

// 0.000123 -> "123 ns", 0.0456 -> "45.6 us", 12.345 -> "12.3 ms", 1234 -> "1.23 s"; `sign`: a leading '+'
// for positive values (deltas).
inline QString durationText(double ms, bool sign = false) {
  const double a = std::abs(ms);
  double v = ms;
  const char* unit = "ms";
  if (a == 0) {
    v = 0;
  } else if (a < 1e-3) {
    v = ms * 1e6, unit = "ns";
  } else if (a < 1) {
    v = ms * 1e3, unit = "us";
  } else if (a >= 1e3) {
    v = ms * 1e-3, unit = "s";
  }
  const double av = std::abs(v);
  // 3 significant digits; rounding up may cross a decade (999.6 us -> "1000 us", acceptable and exact).
  const int decimals = av == 0 || av >= 100 ? 0 : av >= 10 ? 1 : 2;
  QString text = QString::number(v, 'f', decimals) + QLatin1Char(' ') + QLatin1String(unit);
  if (sign && v > 0) text.prepend(QLatin1Char('+'));
  return text;
}

inline QString durationText(const std::optional<double>& ms, bool sign = false) {
  return ms ? durationText(*ms, sign) : QStringLiteral("-");
}

}  // namespace parm::app
