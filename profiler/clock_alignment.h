// Offset of a rank's clock to rank 0's from ping-pong samples (Cristian's method): of K round trips keep the
// one with the shortest round trip; the remote time is assumed taken halfway, so the uncertainty is half that
// trip.
#pragma once

#include <cstdint>
#include <vector>

namespace parm::profiler {

struct PingSample {
  std::int64_t local_send_ns = 0;  // rank 0 clock, ping sent
  std::int64_t remote_ns = 0;      // the other rank's clock when it answered
  std::int64_t local_recv_ns = 0;  // rank 0 clock, pong received
};

struct ClockOffset {
  double offset_ns = 0;       // add to the remote clock to get rank 0's clock
  double uncertainty_ns = 0;  // half the best round trip
};

ClockOffset estimate_offset(const std::vector<PingSample>& samples);

struct ClockModel {
  ClockOffset start;
  ClockOffset end;
  double drift_ppm = 0;  // (end offset - start offset) / elapsed, in parts per million
  double uncertainty_ns() const {
    return start.uncertainty_ns > end.uncertainty_ns ? start.uncertainty_ns : end.uncertainty_ns;
  }
  // Offset at `remote_ns`, interpolated linearly between the two measurements.
  double offset_at(std::int64_t remote_ns, std::int64_t start_remote_ns, std::int64_t end_remote_ns) const;
};

}  // namespace parm::profiler
