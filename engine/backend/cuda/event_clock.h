// Host-clock times for CUDA events. cudaEventElapsedTime only gives float milliseconds between two events,
// so the backend keeps an anchor: an event recorded on an idle stream at a synchronised point together with
// the host time (profiler::now_ns) it was reached. An event's host time is its anchor's host time plus the
// elapsed time from the anchor. Each event remembers the anchor that was current when it was recorded (so
// the elapsed time is never negative) and the backend re-anchors at every synchronize(), so the float
// milliseconds stay short and keep sub-microsecond precision. The arithmetic is pure, for a host test.
#pragma once

#include <cmath>
#include <cstdint>

namespace parm::backend::cuda {

// The host time the anchor was reached, from host times taken just before recording it and just after it
// was reached: the midpoint, so the error is at most half the bracket.
inline std::int64_t anchor_host_ns(std::int64_t before_record_ns, std::int64_t after_reached_ns) {
  return before_record_ns + (after_reached_ns - before_record_ns) / 2;
}

// The host time of an event `elapsed_ms` (cudaEventElapsedTime(anchor, event)) after the anchor.
inline std::int64_t event_host_ns(std::int64_t anchor_ns, float elapsed_ms) {
  return anchor_ns + static_cast<std::int64_t>(std::llround(static_cast<double>(elapsed_ms) * 1e6));
}

}  // namespace parm::backend::cuda
