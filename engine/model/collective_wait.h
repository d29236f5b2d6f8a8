// A collective's time on one rank split into waiting for the last member to arrive and the transfer itself.
// The members' starts come from the cross-rank matching of (group, comm, seq); every time on one clock (the
// stored run-origin ns). Shared by the timeline's tooltip, the per-op table and the time breakdown.
#pragma once

#include <algorithm>
#include <cstdint>

namespace parm {

struct CollectiveSplit {
  std::int64_t wait_ns = 0;      // from this member's start until the last member started
  std::int64_t transfer_ns = 0;  // the rest of this member's duration
};

// `start`/`end`: this member's interval; `last_arrival`: the latest start over all members (this one
// included). The wait is clamped into [0, end - start] (a member that ends before the last one starts, e.g.
// after clock skew, waited its whole duration).
inline CollectiveSplit split_collective(std::int64_t start, std::int64_t end, std::int64_t last_arrival) {
  const std::int64_t duration = std::max<std::int64_t>(0, end - start);
  const std::int64_t wait = std::clamp<std::int64_t>(last_arrival - start, 0, duration);
  return {wait, duration - wait};
}

}  // namespace parm
