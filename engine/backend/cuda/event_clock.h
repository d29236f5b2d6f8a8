// Host-clock times for CUDA events. cudaEventElapsedTime only gives float milliseconds between two events,
// so the backend keeps an anchor: an event recorded on an idle stream at a synchronised point together with
// the host time (profiler::now_ns) it was reached. An event's host time is its anchor's host time plus the
// elapsed time from the anchor. Each event remembers the anchor that was current when it was recorded (so
// the elapsed time is never negative) and the backend re-anchors at a synchronize() once the anchor is
// older than kAnchorMaxAgeNs, so the float milliseconds stay short (10 ms: a float ulp is ~1 ns) without
// paying an anchor (a record and an event wait, some microseconds) on every synchronize of a fast loop.
// The arithmetic is pure, for a host test.
#pragma once

#include <cmath>
#include <cstdint>

namespace parm::backend::cuda {

// The host time the anchor was reached, from host times taken just before recording it and just after it
// was reached: the midpoint, so the error is at most half the bracket.
inline std::int64_t anchor_host_ns(std::int64_t before_record_ns, std::int64_t after_reached_ns) {
  return before_record_ns + (after_reached_ns - before_record_ns) / 2;
}

inline constexpr std::int64_t kAnchorMaxAgeNs = 10'000'000;

inline bool anchor_is_stale(std::int64_t anchor_ns, std::int64_t now_ns) {
  return now_ns - anchor_ns >= kAnchorMaxAgeNs;
}

// The host time of an event `elapsed_ms` (cudaEventElapsedTime(anchor, event)) after the anchor.
inline std::int64_t event_host_ns(std::int64_t anchor_ns, float elapsed_ms) {
  return anchor_ns + static_cast<std::int64_t>(std::llround(static_cast<double>(elapsed_ms) * 1e6));
}

}  // namespace parm::backend::cuda
