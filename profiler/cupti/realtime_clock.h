// CUPTI stamps activity with CLOCK_REALTIME ns (its Linux default); GpuActivity wants profiler::now_ns
// (steady_clock) ns. An anchor is one measured offset (realtime - steady) at a steady time; a timestamp is
// converted with the offset interpolated between the two anchors around it, so slow drift (NTP slewing the
// realtime clock) between collects is followed.
#pragma once

#include <cstdint>

namespace parm::profiler::cupti {

struct ClockAnchor {
  std::int64_t steady_ns = 0;  // profiler::now_ns when measured
  std::int64_t offset_ns = 0;  // realtime - steady at that moment
};

// Best of 16 interleaved reads (steady, realtime, steady): the triple with the smallest steady gap, realtime
// taken against the midpoint of its two steady reads.
ClockAnchor measure_clock_anchor();

// `realtime_ns` on the steady clock: the offset interpolated linearly in steady time between `earlier` and
// `later` (held at the nearer anchor outside them; `later` alone when they coincide).
std::int64_t realtime_to_steady_ns(std::int64_t realtime_ns, const ClockAnchor& earlier,
                                   const ClockAnchor& later);

}  // namespace parm::profiler::cupti
