#include "profiler/cupti/realtime_clock.h"

#include <chrono>
#include <limits>

#include "profiler/op_tracer.h"

namespace parm::profiler::cupti {
namespace {

std::int64_t realtime_now_ns() {
  // system_clock is CLOCK_REALTIME on Linux (libstdc++ and libc++).
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

ClockAnchor measure_clock_anchor() {
  ClockAnchor best;
  std::int64_t best_gap = std::numeric_limits<std::int64_t>::max();
  for (int i = 0; i < 16; ++i) {
    const std::int64_t before = now_ns();
    const std::int64_t realtime = realtime_now_ns();
    const std::int64_t after = now_ns();
    if (after - before < best_gap) {
      best_gap = after - before;
      best.steady_ns = before + (after - before) / 2;
      best.offset_ns = realtime - best.steady_ns;
    }
  }
  return best;
}

std::int64_t realtime_to_steady_ns(std::int64_t realtime_ns, const ClockAnchor& earlier,
                                   const ClockAnchor& later) {
  const std::int64_t span = later.steady_ns - earlier.steady_ns;
  if (span <= 0) return realtime_ns - later.offset_ns;
  const std::int64_t guess = realtime_ns - earlier.offset_ns;  // steady time to place it between the anchors
  if (guess <= earlier.steady_ns) return realtime_ns - earlier.offset_ns;
  if (guess >= later.steady_ns) return realtime_ns - later.offset_ns;
  const long double fraction =
      static_cast<long double>(guess - earlier.steady_ns) / static_cast<long double>(span);
  const auto offset =
      earlier.offset_ns +
      static_cast<std::int64_t>(fraction * static_cast<long double>(later.offset_ns - earlier.offset_ns));
  return realtime_ns - offset;
}

}  // namespace parm::profiler::cupti
