#include "profiler/clock_alignment.h"

#include <limits>

namespace parm::profiler {

ClockOffset estimate_offset(const std::vector<PingSample>& samples) {
  ClockOffset best;
  std::int64_t best_rtt = std::numeric_limits<std::int64_t>::max();
  for (const auto& s : samples) {
    const std::int64_t rtt = s.local_recv_ns - s.local_send_ns;
    if (rtt < 0 || rtt >= best_rtt) continue;
    best_rtt = rtt;
    const double midpoint = static_cast<double>(s.local_send_ns) + static_cast<double>(rtt) / 2.0;
    best.offset_ns = midpoint - static_cast<double>(s.remote_ns);
    best.uncertainty_ns = static_cast<double>(rtt) / 2.0;
  }
  return best;
}

double ClockModel::offset_at(std::int64_t remote_ns, std::int64_t start_remote_ns,
                             std::int64_t end_remote_ns) const {
  if (end_remote_ns <= start_remote_ns) return start.offset_ns;
  const double f =
      static_cast<double>(remote_ns - start_remote_ns) / static_cast<double>(end_remote_ns - start_remote_ns);
  return start.offset_ns + f * (end.offset_ns - start.offset_ns);
}

}  // namespace parm::profiler
