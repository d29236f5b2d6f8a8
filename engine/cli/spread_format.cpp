#include "engine/cli/spread_format.h"

#include <cmath>
#include <cstdio>

namespace parm::cli {

std::string format_spread_ms(const Spread& s) {
  if (s.n == 0) return "-";
  const double size = std::abs(s.p50);
  const int decimals = size >= 100 ? 0 : size >= 10 ? 1 : size >= 1 ? 2 : 3;
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.*f [%.*f-%.*f]", decimals, s.p50, decimals, s.p10, decimals, s.p90);
  return buf;
}

nlohmann::json spread_json(const Spread& s) {
  return {{"p10", s.p10}, {"p50", s.p50}, {"p90", s.p90}, {"min", s.min}, {"max", s.max}, {"n", s.n}};
}

}  // namespace parm::cli
